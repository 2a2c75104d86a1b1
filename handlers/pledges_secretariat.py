"""/pledges in chat for the secretariat: a round's summary, from the same
storage.pledges.summary `nmrf-bot pledges summary` and the report read.

    /pledges            the latest round: who has pledged, who confirmed,
                        who said it pledges nothing, who has not answered,
                        and, from the report-back on, each one's outcomes
    /pledges 2027       that year's round
    /pledges P-3        one pledge whole, with every outcome told

Rounds are opened, moved and closed on the command line (`nmrf-bot pledges`)."""

from __future__ import annotations

import re

from handlers.pledge_counts import standing_counts
from handlers.refusals import reason
from handlers.secretariat_routes import Command, Routes
from handlers.turn import SecretariatTurn
from messages import local_date, shorten
from storage import pledges as store
from storage.enums import PledgeOutcomeKind, Platform, SecretariatRole
from storage.errors import RegistryError
from storage.pledge_models import PledgeRound
from storage.pledges import InstitutionLine

VIEWER = SecretariatRole.VIEWER
# Institutions listed in chat; the CLI and the report have them all.
LISTED = 40
_YEAR = re.compile(r"\d{4}")


def _word(turn: SecretariatTurn) -> str:
    return ("/" if turn.message.address.platform is Platform.TELEGRAM else "") + "pledges"


async def command(turn: SecretariatTurn, args: str) -> None:
    words = args.split()
    try:
        if not words:
            round_ = await store.latest_round(turn.session)
        elif len(words) == 1 and _YEAR.fullmatch(words[0]):
            round_ = await store.get_round(turn.session, int(words[0]))
        elif len(words) == 1:
            await _show_pledge(turn, words[0])
            return
        else:
            turn.say("pledges.usage", pledges=_word(turn))
            return
    except RegistryError as exc:
        if exc.key is None:
            turn.say("pledges.no_round_yet")
        else:
            turn.say("pledges.failed", reason=reason(turn, exc))
        return
    await _show_round(turn, round_)


def _outcomes(turn: SecretariatTurn, line: InstitutionLine) -> str:
    return turn.text(
        "pledges.line_outcomes", done=line.outcomes[PledgeOutcomeKind.DONE], partly=line.outcomes[PledgeOutcomeKind.PARTLY],
        not_done=line.outcomes[PledgeOutcomeKind.NOT_DONE], awaited=line.awaited,
    )


async def _show_round(turn: SecretariatTurn, round_: PledgeRound) -> None:
    lang, today = turn.language, turn.local_day(turn.now)
    found = await store.summary(turn.session, round_)
    stage = store.phase(round_, today)
    lines = [turn.text(
        f"pledges.header_{stage}", year=round_.year, date=local_date(round_.ask_by, lang), report=local_date(round_.report_back_on, lang),
    )]
    lines.append(turn.text(
        "pledges.counts", count=len(found.lines), **standing_counts(found, lang),
    ))
    reporting = stage != store.Phase.PLEDGING
    for line in found.lines[:LISTED]:
        text = turn.text(
            f"pledges.line_{line.standing}", code=line.code, confirmed=line.confirmed, drafts=line.drafts, withdrawn=line.withdrawn,
        )
        if reporting and line.confirmed:
            text += " " + _outcomes(turn, line)
        lines.append(text)
    if len(found.lines) > LISTED:
        lines.append(turn.text("pledges.more", count=len(found.lines) - LISTED))
    if reporting:
        lines.append(turn.text(
            "pledges.totals", count=found.total("confirmed"), done=found.outcome_total(PledgeOutcomeKind.DONE),
            partly=found.outcome_total(PledgeOutcomeKind.PARTLY), not_done=found.outcome_total(PledgeOutcomeKind.NOT_DONE),
            awaited=found.total("awaited"),
        ))
    lines.append(turn.text("pledges.footer", year=round_.year))
    turn.say_lines("pledges.summary", lines)


async def _show_pledge(turn: SecretariatTurn, ref: str) -> None:
    try:
        pledge = await store.get_pledge(turn.session, ref)
    except RegistryError as exc:
        turn.say("pledges.failed", reason=reason(turn, exc))
        return
    round_ = await turn.session.get(PledgeRound, pledge.round_id)
    assert round_ is not None
    [view] = await store.pledge_views(turn.session, pledge.round_id, ids=[pledge.id])
    lang = turn.language
    lines = [turn.text(
        "pledges.detail", code=pledge.code, year=round_.year, institution=view.institution_name,
        state=turn.text(f"pledge.state_{pledge.state.value}"), text=pledge.text, serves=view.serves or "—", author=pledge.author_label,
        date=local_date(turn.local_day(pledge.created_at), lang),
    )]
    for told in await store.outcomes_of(turn.session, pledge.id):
        lines.append(turn.text(
            "pledges.detail_outcome", outcome=turn.text(f"pledge.outcome_{told.outcome.name.lower()}"), account=shorten(told.account, 600),
            author=told.author_label, date=local_date(turn.local_day(told.created_at), lang),
        ))
    turn.say_lines("pledges.detail", lines)


ROUTES = Routes(commands={"/pledges": Command(VIEWER, command, "secretariat.help_pledges")})
