"""``nmrf-bot links``: recommendations from several mechanisms that ask for
the same thing, suggested by their texts and tags (storage.link_similarity)
and grouped by the secretariat (storage.links)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from bot.cli.context import AppContext
from bot.cli.options import IDS, output_options
from storage.errors import InvalidValue

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from storage.links import Brief, GroupSummary
    from storage.models import LinkSuggestion

# How much of each member's text a suggestion shows in a table.
TEXT_SHOWN = 80
SUGGESTION_COLUMNS = ("suggestion", "score", "add_to_group", "id", "mechanism", "country", "text")
GROUP_COLUMNS = ("group", "title", "members", "mechanisms", "countries", "created_at", "created_by")
MEMBER_COLUMNS = ("group", "id", "mechanism", "country", "text")


@click.group()
def links() -> None:
    """Linked recommendations: one issue raised by several mechanisms, answered once."""


def _first(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TEXT_SHOWN else flat[: TEXT_SHOWN - 1] + "…"


def _member_line(brief: Brief | None, rec_id: int) -> str:
    if brief is None:
        return f"  #{rec_id}  (no longer in the registry)"
    return f"  #{brief.id:<6} {brief.mechanism:<10} {_first(brief.text)}"


def _suggestion_rows(shown: Sequence[LinkSuggestion], found: dict[int, Brief]) -> list[dict[str, Any]]:
    rows = []
    for s in shown:
        for rec_id in s.member_ids:
            brief = found.get(rec_id)
            rows.append({
                "suggestion": s.id, "score": round(s.score, 3), "add_to_group": s.group_id if s.decision is None else None, "id": rec_id,
                "mechanism": brief.mechanism if brief else None, "country": brief.country if brief else None, "text": brief.text if brief else None,
            })
    return rows


def _print_suggestions(
    shown: Sequence[LinkSuggestion], found: dict[int, Brief], groups: dict[int, GroupSummary], fmt: str, limit: int | None,
    taken: dict[int, dict[int, int]] | None = None,
) -> None:
    from bot.output import RowWriter

    shown = list(shown)[:limit] if limit is not None else list(shown)
    if fmt != "table":
        writer = RowWriter(SUGGESTION_COLUMNS, fmt)
        for row in _suggestion_rows(shown, found):
            writer.write(row)
        writer.close()
        return
    for s in shown:
        if s.group_id is not None:
            target = groups.get(s.group_id)
            named = f" {target.title!r}" if target and target.title else ""
            size = f", {target.members} members" if target else ""
            head = f"Suggestion {s.id} (score {s.score:.2f}): add to group {s.group_id}{named}{size}"
        else:
            head = f"Suggestion {s.id} (score {s.score:.2f}): a new group of {len(s.member_ids)}"
        click.echo(head)
        for rec_id in s.member_ids:
            click.echo(_member_line(found.get(rec_id), rec_id))
        since = (taken or {}).get(s.id)
        if since:
            where = ", ".join(f"#{r} in group {g}" for r, g in since.items())
            click.echo(f"  grouped since: {where}; confirm it --without {','.join(map(str, since))} or dismiss it")
    if shown:
        click.echo("Confirm with: nmrf-bot links confirm N [--title ...] [--without ID,...] (several: --title N=... for each); or dismiss N.", err=True)


@links.command("suggest")
@click.option("--country", default=None, help="Only recommendations to this State.")
@click.option("--mechanism", "mechanisms", multiple=True, help="Only recommendations from this mechanism (repeatable: UPR, CEDAW, ...).")
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None, help="How alike members must be, 0-1 (default: the tuned one).")
@output_options
@click.pass_obj
def links_suggest(app: AppContext, country: str | None, mechanisms: tuple[str, ...], threshold: float | None, fmt: str, limit: int | None) -> None:
    """Suggest groups of recommendations that ask for the same thing, and keep them by number."""
    from storage import links as store
    from storage.database import writing

    # Imported here: the method loads scikit-learn, which every other command can do without.
    from storage.link_similarity import suggest_groups

    async def work(
        sessions: async_sessionmaker[AsyncSession],
    ) -> tuple[store.StoredSuggestions, dict[int, Brief], dict[int, GroupSummary], dict[int, dict[int, int]]]:
        async with writing(sessions) as session:
            items = await store.link_items(session, country=country, mechanisms=mechanisms)
            groups = suggest_groups(items) if threshold is None else suggest_groups(items, threshold=threshold)
            stored = await store.store_suggestions(session, groups, app.now(), actor=app.actor)
            found = await store.briefs(session, {i for s in stored.shown for i in s.member_ids})
            summaries = {g.id: g for g in await store.list_groups(session)}
            return stored, found, summaries, await store.grouped_since(session, stored.shown)

    stored, found, summaries, taken = app.run(work)
    _print_suggestions(stored.shown, found, summaries, fmt, limit, taken)
    again = f", {len(stored.pending)} still pending from before" if stored.pending else ""
    dismissed = f", {stored.dismissed_again} dismissed before and left out" if stored.dismissed_again else ""
    grown = f", {stored.superseded} pending replaced by a larger one" if stored.superseded else ""
    click.echo(f"{len(stored.new)} new suggestion(s){again}{dismissed}{grown}", err=True)


@links.command("list")
@click.option("--suggestions", is_flag=True, help="The pending suggestions instead of the groups.")
@click.option("--country", default=None, help="Only groups (or suggestions) with recommendations to this State.")
@click.option("--mechanism", default=None, help="Only groups with a recommendation from this mechanism.")
@output_options
@click.pass_obj
def links_list(app: AppContext, suggestions: bool, country: str | None, mechanism: str | None, fmt: str, limit: int | None) -> None:
    """The linked groups, with their members' mechanisms and State (or --suggestions)."""
    from bot.output import write_rows
    from storage import links as store

    async def work(sessions: async_sessionmaker[AsyncSession]) -> Any:
        async with sessions() as session:
            summaries = await store.list_groups(session, country=country, mechanism=None if suggestions else mechanism)
            if not suggestions:
                return summaries
            pending = await store.pending_suggestions(session, country=country)
            found = await store.briefs(session, {i for s in pending for i in s.member_ids})
            return pending, found, {g.id: g for g in summaries}, await store.grouped_since(session, pending)

    result = app.run(work)
    if suggestions:
        pending, found, summaries, taken = result
        _print_suggestions(pending, found, summaries, fmt, limit, taken)
        if fmt == "table" and not pending:
            click.echo("no pending suggestion (nmrf-bot links suggest makes some)", err=True)
        return
    rows = [
        {"group": g.id, "title": g.title, "members": g.members, "mechanisms": list(g.mechanisms), "countries": list(g.countries),
         "created_at": g.created_at, "created_by": g.created_by}
        for g in result
    ]
    count = write_rows(rows, GROUP_COLUMNS, fmt, limit)
    if fmt == "table":
        click.echo(f"{count} group(s)", err=True)


@links.command("show")
@click.argument("group_id", type=click.IntRange(min=1), metavar="G")
@click.option("--format", "fmt", type=click.Choice(("table", "json", "csv")), default="table", show_default=True, help="Output format.")
@click.pass_obj
def links_show(app: AppContext, group_id: int, fmt: str) -> None:
    """A group's members."""
    from bot.output import write_rows
    from storage import links as store

    async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[str | None, list[Brief]]:
        async with sessions() as session:
            group = await store.get_group(session, group_id)
            return group.title, await store.members(session, group_id)

    title, found = app.run(work)
    if fmt != "table":
        write_rows([{"group": group_id, "id": b.id, "mechanism": b.mechanism, "country": b.country, "text": b.text} for b in found], MEMBER_COLUMNS, fmt)
        return
    if not found:
        click.echo(f"group {group_id} has no members: it was dissolved or merged into another (see: nmrf-bot audit list)")
        return
    click.echo(f"Group {group_id}" + (f" {title!r}" if title else "") + f": {len(found)} recommendations to {found[0].country}")
    for brief in found:
        click.echo(_member_line(brief, brief.id))


def _members_text(ids: Sequence[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)


# --title S=TITLE: suggestion S's own title, when several are confirmed at once.
_PER_SUGGESTION = re.compile(r"\s*(\d+)\s*=\s*(.*)", re.DOTALL)


def confirm_titles(suggestion_ids: Sequence[int], given: Sequence[str]) -> dict[int, str]:
    """Each suggestion's title from the --title options: one plain title when
    one suggestion is confirmed; with several, each its own as S=TITLE, since
    one title for all would name different issues alike. Refused before
    anything is confirmed."""
    chosen = list(dict.fromkeys(suggestion_ids))
    titles: dict[int, str] = {}
    for value in given:
        found = _PER_SUGGESTION.fullmatch(value)
        if found is not None and int(found[1]) in chosen:
            target, title = int(found[1]), found[2]
        elif len(chosen) == 1:
            target, title = chosen[0], value
        else:
            example = f"--title {chosen[0]}='Marital rape' --title {chosen[1]}='Child marriage'"
            named = f" ({found[1]} is none of the suggestions given: {', '.join(map(str, chosen))})" if found is not None else ""
            raise InvalidValue(
                f"--title {value!r} would give all {len(chosen)} groups one title{named}: give each its own as S=TITLE "
                f"({example}), or confirm them one at a time; nothing was confirmed",
                field="title",
            )
        if target in titles:
            raise InvalidValue(f"--title names suggestion {target} twice ({titles[target]!r} and {title!r}); nothing was confirmed", field="title")
        if not title.strip():
            raise InvalidValue(f"--title {value!r}: the title of suggestion {target} is empty; nothing was confirmed", field="title")
        titles[target] = title
    return titles


@links.command("confirm")
@click.argument("suggestion_ids", nargs=-1, required=True, type=click.IntRange(min=1), metavar="S [S...]")
@click.option(
    "--title", "titles", multiple=True,
    help="The group's name for the issue. With one suggestion: --title 'Marital rape'. With several, each its own, "
    "repeated: --title 4='Marital rape' --title 7='Child marriage' (a plain title is refused: it would name them all alike).",
)
@click.option("--without", type=IDS, default=None, help="Recommendation ids to leave out of the group: '12,15'.")
@click.pass_obj
def links_confirm(app: AppContext, suggestion_ids: tuple[int, ...], titles: tuple[str, ...], without: tuple[int, ...] | None) -> None:
    """Make the suggestions groups (all or none)."""
    from storage import links as store
    from storage.database import writing

    named = confirm_titles(suggestion_ids, titles)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        lines = []
        async with writing(sessions) as session:
            chosen = [await store.get_suggestion(session, sid) for sid in dict.fromkeys(suggestion_ids)]
            # --without names recommendations of any of the suggestions given.
            unused = [i for i in without or () if not any(i in s.member_ids for s in chosen)]
            if unused:
                raise InvalidValue(f"--without: {_members_text(unused)} in none of the suggestions given; nothing was confirmed")
            for suggestion in chosen:
                left_out = [i for i in without or () if i in suggestion.member_ids]
                group = await store.confirm(session, suggestion.id, app.actor, app.now(), title=named.get(suggestion.id), without=left_out)
                ids = await store.member_ids(session, group.id)
                title = f" {group.title!r}" if group.title else ""
                lines.append(f"suggestion {suggestion.id} confirmed: group {group.id}{title} now links {_members_text(ids)}")
        return lines

    click.echo("\n".join(app.run(work)))


@links.command("dismiss")
@click.argument("suggestion_ids", nargs=-1, required=True, type=click.IntRange(min=1), metavar="S [S...]")
@click.pass_obj
def links_dismiss(app: AppContext, suggestion_ids: tuple[int, ...]) -> None:
    """Not the same thing after all: the suggestions are not made again."""
    from storage import links as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
        async with writing(sessions) as session:
            return [f"suggestion {(await store.dismiss(session, sid, app.actor, app.now())).id} dismissed" for sid in dict.fromkeys(suggestion_ids)]

    click.echo("\n".join(app.run(work)))


@links.command("group")
@click.option("--ids", type=IDS, required=True, help="Recommendation ids: '3,9,12'.")
@click.option("--title", default=None, help="The group's name for the issue.")
@click.pass_obj
def links_group(app: AppContext, ids: tuple[int, ...], title: str | None) -> None:
    """Link recommendations by hand (two or more, to one State, none in a group yet)."""
    from storage import links as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            group = await store.create_group(session, ids, app.actor, app.now(), title)
            return f"group {group.id} links {_members_text(await store.member_ids(session, group.id))}"

    click.echo(app.run(work))


@links.command("split")
@click.argument("group_id", type=click.IntRange(min=1), metavar="G")
@click.option("--ids", type=IDS, required=True, help="The members that leave for a new group (one alone leaves for none).")
@click.pass_obj
def links_split(app: AppContext, group_id: int, ids: tuple[int, ...]) -> None:
    """Some members of a group leave it, for a new group of their own."""
    from storage import links as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            r = await store.split(session, group_id, ids, app.actor, app.now())
        moved = f"{_members_text(r.moved)} now in group {r.new_group.id}" if r.new_group else f"{_members_text(r.moved)} in no group now"
        kept = f"group {group_id} keeps {_members_text(r.kept)}" if r.kept else f"group {group_id} is dissolved: one member would be left alone"
        larger = " (the larger part keeps the group, its number and title)" if r.larger_stays else ""
        return f"{moved}; {kept}{larger}"

    click.echo(app.run(work))


@links.command("merge")
@click.argument("group_ids", nargs=-1, required=True, type=click.IntRange(min=1), metavar="G1 G2 [G...]")
@click.pass_obj
def links_merge(app: AppContext, group_ids: tuple[int, ...]) -> None:
    """Groups become one: the lowest-numbered takes the others' members."""
    from storage import links as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            assigned = await store.institutions_of_groups(session, group_ids)
            group = await store.merge(session, group_ids, app.actor, app.now())
            done = f"group {group.id} now links {_members_text(await store.member_ids(session, group.id))}"
            if len(set(assigned.values())) < 2:
                return done
            each = "; ".join(f"group {gid}: {', '.join(names) or 'none'}" for gid, names in sorted(assigned.items()))
            return f"{done}\nnote: the groups had different assigned institutions ({each}); each is now asked about every member"

    click.echo(app.run(work))


@links.command("remove")
@click.option("--ids", type=IDS, required=True, help="Recommendation ids that leave their groups.")
@click.pass_obj
def links_remove(app: AppContext, ids: tuple[int, ...]) -> None:
    """Recommendations leave their groups."""
    from storage import links as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            r = await store.remove_members(session, ids, app.actor, app.now())
        line = f"{_members_text(r.removed)} in no group now"
        if r.dissolved:
            alone = f" ({_members_text(r.also_removed)} would have been left alone)" if r.also_removed else ""
            line += f"; group(s) {', '.join(map(str, r.dissolved))} dissolved{alone}"
        return line

    click.echo(app.run(work))


@links.command("rename")
@click.argument("group_id", type=click.IntRange(min=1), metavar="G")
@click.argument("title")
@click.pass_obj
def links_rename(app: AppContext, group_id: int, title: str) -> None:
    """Give a group the secretariat's name for the issue."""
    from storage import links as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            group = await store.rename(session, group_id, title, app.actor, app.now())
            return f"group {group.id} is now {group.title!r}"

    click.echo(app.run(work))


@links.command("dissolve")
@click.argument("group_id", type=click.IntRange(min=1), metavar="G")
@click.pass_obj
def links_dissolve(app: AppContext, group_id: int) -> None:
    """Every member leaves the group (the updates given for it keep its number)."""
    from storage import links as store
    from storage.database import writing

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with writing(sessions) as session:
            ids = await store.dissolve(session, group_id, app.actor, app.now())
        return f"group {group_id} dissolved: {_members_text(ids)} in no group now"

    click.echo(app.run(work))
