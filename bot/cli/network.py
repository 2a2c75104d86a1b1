"""``nmrf-bot institutions`` and ``nmrf-bot focal-points``."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import click

from zoneinfo import ZoneInfo

from bot.cli.context import AppContext
from bot.cli.options import DATE, enum_choice, output_options
from messages import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES
from storage.enums import FocalPointRole, InstitutionKind

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from bot.invites import Invitation


@click.group()
def institutions() -> None:
    """Ministries, agencies and other bodies that implement recommendations."""


@institutions.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--kind", type=enum_choice(InstitutionKind), default=InstitutionKind.MINISTRY.value, show_default=True)
@click.option("--parent", default=None, help="Code of the parent institution.")
@click.pass_obj
def institutions_add(app: AppContext, code: str, name: str, kind: str, parent: str | None) -> None:
    """Add an institution, e.g. `institutions add MOJ "Ministry of Justice"`."""
    from storage.network import InstitutionData, add_institution

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            inst = await add_institution(session, InstitutionData(code, name, InstitutionKind(kind), parent))
            return f"added institution {inst.code} (id {inst.id})"

    click.echo(app.run(work))


@institutions.command("edit")
@click.argument("code")
@click.option("--name", default=None)
@click.option("--kind", type=enum_choice(InstitutionKind), default=None)
@click.option("--parent", default=None, help="Code of the new parent institution.")
@click.option("--no-parent", is_flag=True, help="Make it a top-level institution.")
@click.pass_obj
def institutions_edit(app: AppContext, code: str, name: str | None, kind: str | None, parent: str | None, no_parent: bool) -> None:
    """Correct an institution's name, kind or parent; the audit log keeps what it was."""
    from storage.network import Change, InstitutionEdit, edit_institution

    if parent is not None and no_parent:
        raise click.UsageError("give --parent CODE or --no-parent, not both")
    edit = InstitutionEdit(name=name, kind=InstitutionKind(kind) if kind else None, parent_code="" if no_parent else parent)
    if edit == InstitutionEdit():
        raise click.UsageError("nothing to change: give --name, --kind, --parent or --no-parent")

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            inst, change = await edit_institution(session, code, edit)
            return f"institution {inst.code} {'changed' if change is Change.UPDATED else 'unchanged (it was so already)'}"

    click.echo(app.run(work))


INSTITUTION_COLUMNS = ("id", "code", "name", "kind", "parent", "active", "focal_points")


@institutions.command("list")
@output_options
@click.pass_obj
def institutions_list(app: AppContext, fmt: str, limit: int | None) -> None:
    """List institutions with their number of active focal points."""
    from bot.output import write_rows
    from storage.network import list_institutions

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            return [
                {
                    "id": i.id,
                    "code": i.code,
                    "name": i.name,
                    "kind": i.kind,
                    "parent": i.parent.code if i.parent else None,
                    "active": i.active,
                    "focal_points": n,
                }
                for i, n in await list_institutions(session)
            ]

    write_rows(app.run(work), INSTITUTION_COLUMNS, fmt, limit)


@click.group("focal-points")
def focal_points() -> None:
    """The people who answer for each institution."""


@focal_points.command("add")
@click.option("--name", required=True)
@click.option("--institution", required=True, help="Institution code.")
@click.option("--role", type=enum_choice(FocalPointRole), required=True)
@click.option("--email", default=None)
@click.option("--language", type=click.Choice(SUPPORTED_LANGUAGES), default=DEFAULT_LANGUAGE, show_default=True)
@click.option("--timezone", default=None, help="IANA time zone (default: [schedule] timezone).")
@click.option("--active-from", type=DATE, default=None, help="First day (default: today).")
@click.option("--hours", "working_hours", default=None, help="Their own working hours, e.g. 08:00-14:00 (default: [schedule] hours).")
@click.option("--country", default=None, help="Whose public holidays they keep: ISO 3166-1 code, e.g. DE (default: [schedule] country).")
@click.option("--subdivision", default=None, help="The country's subdivision as the holidays package names it, e.g. BY (Bavaria).")
@click.pass_obj
def focal_points_add(
    app: AppContext,
    name: str,
    institution: str,
    role: str,
    email: str | None,
    language: str,
    timezone: str | None,
    active_from: date | None,
    working_hours: str | None,
    country: str | None,
    subdivision: str | None,
) -> None:
    """Add a focal point to an institution."""
    from storage.network import FocalPointData, add_focal_point

    data = FocalPointData(
        name=name,
        institution_code=institution,
        role=FocalPointRole(role),
        language=language,
        timezone=timezone or app.config.schedule.timezone,
        active_from=active_from or app.today(),
        email=email,
        working_hours=working_hours,
        country=country,
        subdivision=subdivision,
    )

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            fp = await add_focal_point(session, data)
            return f"added focal point {fp.name} (id {fp.id})"

    click.echo(app.run(work))


@focal_points.command("edit")
@click.argument("focal_point")
@click.option("--name", default=None)
@click.option("--email", default=None)
@click.option("--role", type=enum_choice(FocalPointRole), default=None)
@click.option("--language", type=click.Choice(SUPPORTED_LANGUAGES), default=None)
@click.option("--timezone", default=None, help="IANA time zone, e.g. America/Montevideo.")
@click.option("--hours", "working_hours", default=None, help="Their own working hours, e.g. 08:00-14:00, or 'default'.")
@click.option("--country", default=None, help="ISO 3166 country of their public holidays, e.g. UY; '' for [schedule] country.")
@click.option("--subdivision", default=None, help="Its subdivision as the holidays package names it, e.g. BY for Bavaria.")
@click.pass_obj
def focal_points_edit(
    app: AppContext, focal_point: str, name: str | None, email: str | None, role: str | None, language: str | None,
    timezone: str | None, working_hours: str | None, country: str | None, subdivision: str | None,
) -> None:
    """Correct a focal point's details (by id or e-mail), as an admin can in
    chat with /people; the audit log keeps what each field was. New hours
    move what is already planned for them to their next window."""
    from storage.network import Change, FocalPointEdit, edit_focal_point
    from handlers.hours import set_working_hours
    from storage.validation import check_working_hours
    from bot.policy import reminder_policy

    edit = FocalPointEdit(name=name, email=email, role=FocalPointRole(role) if role else None, language=language, timezone=timezone,
                          country=country, subdivision=subdivision)
    if edit == FocalPointEdit() and working_hours is None:
        raise click.UsageError("nothing to change: give --name, --email, --role, --language, --timezone, --hours, --country or --subdivision")
    hours = None
    if working_hours is not None and working_hours.strip().lower() != "default":
        hours = check_working_hours(working_hours)
    policy = reminder_policy(app.config)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            fp, change = await edit_focal_point(session, focal_point, edit)
            moved = 0
            if working_hours is not None and fp.working_hours != hours:
                moved = await set_working_hours(session, fp, hours, policy, app.now())
                change = Change.UPDATED
        if change is not Change.UPDATED:
            return f"focal point {fp.id} {fp.name} unchanged (it was so already)"
        follows = f"; {moved} planned messages follow their new hours" if moved else ""
        return f"focal point {fp.id} {fp.name} changed{follows}"

    click.echo(app.run(work))


@focal_points.command("end")
@click.argument("focal_point")
@click.option("--on", "last_day", type=DATE, default=None, help="Last day as focal point (default: today).")
@click.pass_obj
def focal_points_end(app: AppContext, focal_point: str, last_day: date | None) -> None:
    """Close a focal point's term (by id or e-mail); their history stays."""
    from storage.network import end_focal_point

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            fp = await end_focal_point(session, focal_point, last_day or app.today())
            return f"{fp.name} is focal point until {fp.active_to}"

    click.echo(app.run(work))


@focal_points.command("hours")
@click.argument("focal_point")
@click.argument("working_hours")
@click.pass_obj
def focal_points_hours(app: AppContext, focal_point: str, working_hours: str) -> None:
    """Set a focal point's own working hours (by id or e-mail), e.g. 08:00-14:00
    in their time zone, or 'default' for [schedule] hours. What is already
    planned for them moves to their next window. They can also set them in
    chat: /hours 08:00-14:00."""
    from storage.network import find_focal_point
    from handlers.hours import set_working_hours
    from storage.validation import check_working_hours
    from bot.policy import reminder_policy

    policy = reminder_policy(app.config)

    async def work(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session, session.begin():
            fp = await find_focal_point(session, focal_point)
            chosen = None if working_hours.strip().lower() == "default" else check_working_hours(working_hours)
            moved = await set_working_hours(session, fp, chosen, policy, app.now())
        shown = chosen or f"{app.config.schedule.hours} (default)"
        return f"{fp.name} works {shown} ({fp.timezone}); {moved} planned messages follow"

    click.echo(app.run(work))


FOCAL_POINT_COLUMNS = (
    "id", "name", "email", "institution", "role", "language", "timezone", "hours", "holidays", "active_from", "active_to", "platforms",
)


@focal_points.command("list")
@click.option("--institution", default=None, help="Only this institution (code).")
@click.option("--role", type=enum_choice(FocalPointRole), default=None)
@click.option("--all", "include_inactive", is_flag=True, help="Include focal points whose term has ended.")
@output_options
@click.pass_obj
def focal_points_list(
    app: AppContext, institution: str | None, role: str | None, include_inactive: bool, fmt: str, limit: int | None
) -> None:
    """List focal points (active ones unless --all)."""
    from bot.output import write_rows
    from storage.network import list_focal_points

    async def work(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            found = await list_focal_points(
                session,
                institution=institution,
                role=FocalPointRole(role) if role else None,
                include_inactive=include_inactive,
            )
            return [
                {
                    "id": fp.id,
                    "name": fp.name,
                    "email": fp.email,
                    "institution": fp.institution.code,
                    "role": fp.role,
                    "language": fp.language,
                    "timezone": fp.timezone,
                    "hours": fp.working_hours or "",
                    # Their own place ("DE-BY"); empty: [schedule] country.
                    "holidays": "-".join(p for p in (fp.country, fp.subdivision) if p),
                    "active_from": fp.active_from,
                    "active_to": fp.active_to,
                    "platforms": sorted({i.platform.value for i in fp.identities}),
                }
                for fp in found
            ]

    write_rows(app.run(work), FOCAL_POINT_COLUMNS, fmt, limit)


@focal_points.command("invite")
@click.argument("focal_point")
@click.option("--no-slack", is_flag=True, help="Do not look the person up on Slack.")
@click.pass_obj
def focal_points_invite(app: AppContext, focal_point: str, no_slack: bool) -> None:
    """A one-time invite for a focal point (by id or e-mail): a Telegram link
    and a code for Slack. With Slack configured, a member with the focal
    point's e-mail is linked at once and welcomed."""
    from bot.invites import invite, telegram_username
    from bot.transports.slack import SlackTransport
    from bot.policy import reminder_policy

    config = app.config

    async def work(sessions: async_sessionmaker[AsyncSession]) -> Invitation:
        username = None
        if config.telegram.token is not None:
            username = await telegram_username(config.telegram.token.get_secret_value(), config.telegram.base_url)
        slack = None
        if config.slack.bot_token is not None and not no_slack:
            slack = SlackTransport(
                config.slack.bot_token.get_secret_value(), _not_listening,
                app_token=config.slack.app_token.get_secret_value() if config.slack.app_token else None,
                signing_secret=config.slack.signing_secret.get_secret_value() if config.slack.signing_secret else None,
                api_url=config.slack.api_url, mode=config.slack.mode,
            )
        return await invite(sessions, focal_point, app.now(), bot_username=username, slack=slack, policy=reminder_policy(config))

    found = app.run(work)
    expires = found.expires_at.astimezone(ZoneInfo(config.schedule.timezone))
    click.echo(f"Invitation for {found.name} ({found.institution}), usable once on each platform until {expires:%Y-%m-%d %H:%M %Z}:")
    if found.telegram_link:
        click.echo(f"  Telegram: {found.telegram_link}")
    else:
        click.echo("  Telegram: not configured ([telegram] token); the code works as /start CODE")
    click.echo(f"  Slack:    write to the bot: start {found.code}   (or /nmrf start {found.code})")
    if found.slack_user_id:
        click.echo(f"  Slack:    matched by e-mail as {found.slack_user_id}; linked and welcomed")
    click.echo(f"  Code:     {found.code}")


async def _not_listening(_message: object) -> None:
    raise AssertionError("the invite command does not receive messages")
