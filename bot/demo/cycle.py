"""One reporting cycle, played on a laptop: the real bot (``BotApp``: engine,
Telegram and Slack adapters, reminder service, outbox dispatcher) against
the local Telegram and Slack stand-ins, with simulated people pressing the
buttons the bot really sent, on a clock that moves a day at a time.

The story, in the demo network's people:
- the secretariat sets a deadline for the ministries' inputs two weeks out;
- focal points join (invite links on Telegram, their e-mail on Slack);
- Lucía (Telegram, Spanish) answers the first reminder at once, then, from
  the reminders that came with it, the plan's action on disability (its
  target date a month away) and the indicator MIDES reports (persons
  served, in her Spanish number format);
- María, the secretariat, asks everyone a question in chat; Jean answers it in French;
- Jean (Telegram, French) and Sofía (Slack) answer at the second reminder;
- Pablo, Lucía's senior, validates her input;
- Martín (Slack) never answers: after two reminders his alternate Ana is
  told, the secretariat gets the overdue digest, and Ana answers, late;
- María asks for the progress, the matrix, the draft and the progress page
  in chat; the files she receives are saved next to the demo database.

Played in one language (``nmrf-bot demo --language ar``), everyone reads the
bot in it and types numbers in its format; in Arabic, Jean writes his answer
and his update in Arabic, left-to-right fragments and all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import BotApp
from bot.clock import ManualClock
from bot.config import Config
from bot.demo.network import load_demo
from bot.demo.transcript import Transcript
from bot.standins.people import SlackPerson, TelegramPerson
from bot.standins.slack import SlackStandIn
from bot.standins.telegram import TelegramStandIn
from messages import t
from messages.bidi import strip_controls
from messages.numbers import local_decimal, local_period
from handlers.requests import send as send_request
from storage.actions import ActionData, create_action
from storage.clock import running_on
from storage.conversations import create_invite
from storage.indicator_models import IndicatorFrequency, IndicatorKind
from storage.indicators import IndicatorData, add_indicator, period_for
from storage.models import FocalPoint, Recommendation, SecretariatUser
from storage.requests import Target, create_request
from storage.secretariat import SecretariatUserData, seed_secretariat_users

# A token of the right shape; the stand-in accepts only it, and it is no real bot's.
DEMO_TELEGRAM_TOKEN = "7000001:DEMOdemoDEMOdemoDEMOdemoDEMOdemo123"
# 09:00 in Montevideo, 13:00 in Paris (winter): inside everyone's working hours.
MORNING_UTC = time(12, 0)
INPUT_DAYS = 14
# The implementation plan's action on disability falls due a month out: its first reminder comes on the first day.
ACTION_DAYS = 30
# Jean's words in an Arabic play: the ministry's answer and its update, with
# the figures, a year and a next step among them.
JEAN_IN_ARABIC = {
    "answer": "خصصت الوزارة 1,2 مليون بيزو لخطة التعليم للمنحدرين من أصل أفريقي في عام 2026.",
    "update": "تتضمن الخطة الوطنية للتعليم الآن مكوناً للمنحدرين من أصل أفريقي؛ ويتبعه قطاع الصحة في عام 2027.",
    "next_step": "اعتماد مكون الصحة",
}


@dataclass
class Outputs:
    database: Path
    files: list[Path] = field(default_factory=list)


@dataclass
class Actor:
    """Someone in the story: a simulated person on one platform, and the
    lines the transcript prints for what they do."""

    name: str
    language: str
    platform: str
    person: TelegramPerson | SlackPerson
    transcript: Transcript
    # Taps and typed messages so far: each path's length is printed.
    taps: int = 0
    typed: int = 0

    def label(self, key: str, **values: object) -> str:
        return t(key, self.language, **values)

    async def say(self, text: str, expect: int = 1) -> list[object]:
        self.typed += 1
        self.transcript.action(self.name, f"writes «{text}»")
        replies = await self.person.says(text, expect=expect)
        self.transcript.flush()
        return list(replies)

    async def press(self, label: str, on: object | None = None, expect: int = 1) -> list[object]:
        self.taps += 1
        self.transcript.action(self.name, f"presses [{label}]")
        if isinstance(self.person, TelegramPerson):
            replies: list[object] = list(await self.person.presses(label, on=on, expect=expect))  # type: ignore[arg-type]
        else:
            replies = list(await self.person.clicks(label, on=on, expect=expect))  # type: ignore[arg-type]
        self.transcript.flush()
        return replies

    def counted(self, what: str, taps: int, typed: int) -> None:
        """The length of a path, as the person lived it."""
        tapped, wrote = self.taps - taps, self.typed - typed
        self.transcript.note(f"{self.name}: {what} in {tapped} tap{'' if tapped == 1 else 's'} and {wrote} typed message{'' if wrote == 1 else 's'}")

    async def update(self, recommendation: int, status: str, narrative: str, evidence: str | None, next_step: str | None) -> None:
        """From the reminder's #N button to saved: on Telegram the status, then
        one message; on Slack one form."""
        taps, typed = self.taps, self.typed
        await self.press(f"#{recommendation}")
        if isinstance(self.person, SlackPerson):
            values = {"status": self.label(f"status.{status}"), "done": narrative}
            if evidence:
                values["links"] = evidence
            if next_step:
                values["next_step"] = next_step
            self.taps += 2  # the form's Update button and its Submit
            self.typed += 1
            self.transcript.action(self.name, f"presses [{self.label('button.update')}], fills in the form «{narrative}» and submits it")
            await self.person.fills_form(self.label("button.update"), values)
            self.transcript.flush()
        else:
            await self.press(self.label("button.update"))
            await self.press(self.label(f"status.{status}"))
            message = narrative + (f" {evidence}" if evidence else "")
            if next_step:
                # As a person types it: without the marks an Arabic text carries.
                word = strip_controls(self.label("words.next")).split("|")[0]
                message += f"\n{word[0].upper()}{word[1:]}: {next_step}"
            await self.say(message)
        self.counted("a full update", taps, typed)

    async def update_action(self, code: str, status: str, done: str) -> None:
        """From the reminder's "A-1: update" to saved: the status, then one message."""
        taps, typed = self.taps, self.typed
        await self.press(self.label("action.button_update", code=code))
        await self.press(self.label(f"status.{status}"))
        await self.say(done)
        self.counted(f"the update of action {code}", taps, typed)

    async def give_value(self, code: str, typed_value: str, period: tuple[date, date], source: str) -> None:
        """From the request's "Give I-1" to saved: the number as the reader writes it,
        the period asked and the indicator's own source on buttons, no note."""
        taps, typed = self.taps, self.typed
        await self.press(self.label("button.give_value", code=code))
        await self.say(typed_value)
        await self.press(self.label("button.this_period", period=local_period(*period, self.language)))
        await self.press(self.label("button.use_source", source=source))
        await self.press(self.label("button.skip"))
        self.counted(f"the value of indicator {code}", taps, typed)

    async def no_change(self, recommendation: int, status_if_first: str | None = None) -> None:
        """The reminder's "#N: no change"; an institution's first answer asks the status."""
        taps, typed = self.taps, self.typed
        await self.press(self.label("button.no_change_item", id=recommendation))
        if status_if_first:
            await self.press(self.label(f"status.{status_if_first}"))
        self.counted("no change", taps, typed)


async def play(
    sessions: async_sessionmaker[AsyncSession], database: Path, transcript: Transcript, start: date, language: str | None = None,
) -> Outputs:
    """The whole cycle; the files the secretariat received, saved beside
    ``database``. ``language``: everyone's, instead of each their own."""
    telegram = TelegramStandIn(DEMO_TELEGRAM_TOKEN, bot_username="nmrf_demo_bot")
    slack = SlackStandIn()
    await telegram.start()
    await slack.start()
    clock = ManualClock(datetime.combine(start, MORNING_UTC, tzinfo=timezone.utc))
    transcript.attach(telegram, slack)
    app: BotApp | None = None
    try:
        transcript.day(clock.now, "The secretariat loads the network and sets the deadlines")
        report, deadlines = await load_demo(sessions, start, input_days=INPUT_DAYS)
        made = ", ".join(f"{counts.created} {table.replace('_', ' ')}" for table, counts in report.tables.items())
        transcript.note(f"imported through the template importer: {made}")
        for line in deadlines:
            transcript.note(line)
        async with sessions() as session, session.begin():
            await seed_secretariat_users(session, [
                SecretariatUserData("María González", "maria.gonzalez@mrree.example", "es", "America/Montevideo", telegram_user_id=900),
            ])
            ids = {fp.email: fp.id for fp in await session.scalars(select(FocalPoint))}
            recs = {r.external_id: r.id for r in await session.scalars(select(Recommendation))}
            codes = {email: await create_invite(session, fp_id, clock()) for email, fp_id in ids.items()}
            if language is not None:
                # As the secretariat would have invited them (people language E-MAIL L).
                await session.execute(update(FocalPoint).values(language=language))
                await session.execute(update(SecretariatUser).values(language=language))
        # The plan: one action and one indicator for MIDES, as `nmrf-bot actions add` and `indicators add` make them.
        with running_on(clock):
            async with sessions() as session, session.begin():
                action = await create_action(session, ActionData(
                    title="Extender el Plan Nacional de Discapacidad a los 19 departamentos", responsible="MIDES",
                    recommendations=(recs["URY-2-005"],), start_date=start, target_date=start + timedelta(days=ACTION_DAYS),
                    budget_amount=Decimal("38000000"), budget_currency="UYU", budget_source="Presupuesto nacional 2026",
                ), actor="cli:demo", now=clock())
                indicator = await add_indicator(session, IndicatorData(
                    "I-1", IndicatorKind.OUTCOME, "Personas con discapacidad atendidas por el Plan Nacional de Discapacidad", "personas",
                    IndicatorFrequency.QUARTERLY, "MIDES", start, baseline_value=Decimal(9800), baseline_date=date(2025, 12, 31),
                    target_value=Decimal(20000), target_date=date(2030, 12, 31), data_source="Registro del MIDES",
                    plausible_min=Decimal(0), plausible_max=Decimal(100000), actions=(action.code,), recommendations=(recs["URY-2-005"],),
                ))
        transcript.note(f"the plan: action {action.code} for MIDES on URY-2-005, due {action.target_date}; indicator {indicator.code}, quarterly from {start}")

        config = Config.model_validate({
            "database": {"url": f"sqlite:///{database}"},
            "telegram": {"token": DEMO_TELEGRAM_TOKEN, "base_url": telegram.base_url},
            "slack": {"bot_token": slack.bot_token, "app_token": slack.app_token, "api_url": slack.api_url},
            "schedule": {"timezone": "America/Montevideo"},
            "reminders": {"steps_days": [14, 7, 3, 1]},
        })
        app = BotApp(config, sessions, clock)
        await app.start()
        # The platforms connect in the background; a loaded machine may take a while.
        await slack.wait_for_socket(timeout=60)

        def on_telegram(user_id: int, name: str, own: str) -> Actor:
            reads = language or own
            telegram.add_user(user_id, name.split()[0], language_code=reads)
            return Actor(name, reads, "Telegram", TelegramPerson(telegram, user_id), transcript)

        def on_slack(user_id: str, name: str, email: str, own: str) -> Actor:
            slack.add_user(user_id, name.split()[0].lower(), email)
            return Actor(name, language or own, "Slack", SlackPerson(slack, user_id), transcript)

        lucia = on_telegram(101, "Lucía Fernández", "es")
        pablo = on_telegram(102, "Pablo Rodríguez", "es")
        jean = on_telegram(103, "Jean Dupont", "fr")
        ana = on_telegram(104, "Ana Pereira", "en")
        maria = on_telegram(900, "María González", "es")
        sofia = on_slack("U0SOFIA", "Sofía Acosta", "sofia.acosta@inmujeres.example", "es")
        martin = on_slack("U0MARTIN", "Martín Silva", "martin.silva@mi.example", "es")
        transcript.names({101: lucia.name, 102: pablo.name, 103: jean.name, 104: ana.name, 900: maria.name,
                          "U0SOFIA": sofia.name, "U0MARTIN": martin.name})

        transcript.day(clock.now, "Focal points join")
        for actor, email in ((lucia, "lucia.fernandez@mides.example"), (pablo, "pablo.rodriguez@mides.example"),
                             (jean, "jean.dupont@mec.example"), (ana, "ana.pereira@mi.example")):
            await actor.say(f"/start {codes[email]}")
        # On Slack the bot knows a member by their workspace e-mail.
        await sofia.say("hola")
        await martin.say("hola")
        await maria.say("/progress")

        async def next_day(days: int, what: str) -> None:
            clock.advance(days=days)
            transcript.day(clock.now, what)
            await app.reminders.tick()  # type: ignore[union-attr]
            await app.dispatcher.drain()  # type: ignore[union-attr]
            transcript.flush()

        await next_day(0, "The first reminders (14 days before the input deadline)")
        await lucia.update(recs["URY-2-005"], "in_progress", "Se aprobó el Plan Nacional de Discapacidad 2026-2030; 12 de 19 departamentos lo aplican.",
                           "https://www.gub.uy/mides/plan-discapacidad", "Extenderlo a los 7 departamentos restantes")
        # The same morning brought the action's first reminder and the indicator's request.
        await lucia.update_action(action.code, "in_progress", "Convenios firmados con 3 de las 7 intendencias restantes.")
        # 12.450 in her Spanish; in the format of the language played, if one is.
        await lucia.give_value(indicator.code, local_decimal(Decimal(12450), lucia.language), period_for(start, IndicatorFrequency.QUARTERLY), "Registro del MIDES")

        await next_day(2, "The secretariat asks everyone a question")
        await maria.say("/request")
        await maria.say("¿Qué presupuesto asignó su institución en 2026 a estas recomendaciones?")
        await maria.press(maria.label("button.in_days", count=7))
        # Two ministries have nobody on the network yet: the bot says so before sending.
        await maria.press(maria.label("button.to_all"), expect=2)
        await maria.press(maria.label("button.send"))
        await app.dispatcher.drain()
        transcript.flush()
        await jean.press(jean.label("button.answer"))
        arabic = language == "ar"
        await jean.say(JEAN_IN_ARABIC["answer"] if arabic else "Le ministère a consacré 1,2 million de pesos au plan d'éducation afro-descendante en 2026.")
        await lucia.press(lucia.label("button.answer"))
        await lucia.say("MIDES destinó 38 millones de pesos al Plan Nacional de Discapacidad en 2026.")

        await next_day(5, "Second reminders (7 days before)")
        if arabic:
            await jean.update(recs["URY-2-004"], "partially_implemented", JEAN_IN_ARABIC["update"], None, JEAN_IN_ARABIC["next_step"])
        else:
            await jean.update(recs["URY-2-004"], "partially_implemented", "Le plan national d'éducation inclut désormais un volet afro-descendant ; la santé suit en 2027.",
                              None, "Adopter le volet santé")
        await sofia.press(sofia.label("button.answer"))
        await sofia.say("INMUJERES: 12 millones de pesos para la campaña y los servicios de atención.")
        # MIDES has not answered on #4 before: "no change" asks for its status first.
        await lucia.no_change(recs["URY-2-004"], status_if_first="in_progress")
        await sofia.update(recs["URY-2-001"], "in_progress", "Campaña nacional «Noviolencia» en 2026: 40 000 mujeres informadas de sus derechos.",
                           "https://www.gub.uy/inmujeres/campana", None)

        await next_day(1, "Validation by the senior focal point")
        # One message a pending input: Lucía's update on #5 and her "no change" on #4.
        pending = await pablo.say("/validate", expect=3)
        await pablo.press(pablo.label("button.approve"), on=pending[1])
        # A question about one recommendation (as `requests send --ids` asks it):
        # MIDES answered #5 before, so "no change" is one tap, and answers it.
        transcript.note("the secretariat asks MIDES, from the command line, whether anything changed on #5")
        async with sessions() as session, session.begin():
            request, recipients = await create_request(
                session, "¿Alguna novedad sobre el Plan Nacional de Discapacidad?", clock.now.date() + timedelta(days=7),
                Target("recommendations", (str(recs["URY-2-005"]),)), created_by="cli:demo", today=clock.now.date(),
            )
            await send_request(session, request, recipients, app.policy, clock.now)
        await app.dispatcher.drain()
        transcript.flush()
        await lucia.no_change(recs["URY-2-005"])

        await next_day(3, "Third reminders (3 days before): Martín has not answered twice, his alternate is told")
        await next_day(3, "The input deadline")
        await next_day(1, "Overdue: the secretariat's digest; the alternate answers, late")
        await ana.update(recs["URY-2-002"], "in_progress", "Two new prison modules opened in 2026; occupancy down from 128% to 112%.",
                         None, "Open the Santiago Vázquez module")
        await maria.say("/progress")
        await maria.say("/requests")

        transcript.day(clock.now, "The secretariat asks for the compiled outputs in chat")
        outputs = Outputs(database)
        for command in ("/report matrix", "/report draft UPR", "/report progress"):
            before = len(telegram.messages_to(900))
            await maria.say(command)
            await telegram.wait_for_messages(900, before + 2, timeout=60)
            transcript.flush()
            sent = telegram.messages_to(900)[-1]
            if sent.document is None:
                raise RuntimeError(f"{command}: the bot answered without a file: {sent.text}")
            path = database.parent / sent.document["file_name"]
            path.write_bytes(sent.document["data"])
            outputs.files.append(path)
        return outputs
    finally:
        if app is not None:
            await app.stop()
        await telegram.stop()
        await slack.stop()
