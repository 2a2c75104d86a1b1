"""The live public tracker: /public and /public.json served by the bot's
own web server (bot.web, bot.public_tracker) over real HTTP on 127.0.0.1,
the same content as ``report progress --public``, validated input only
([reports] public_requires_validation), nothing personal in the bytes, a
minute's cache, and headless Chromium drawing it without a request leaving
the page."""

from __future__ import annotations

import asyncio
import html
import json
import re
import subprocess
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import BotApp
from bot.config import load_config
from bot.public_tracker import PublicTracker
from bot.web import PUBLIC_HEADERS, WebServer
from storage.conversations import link_identity
from storage.enums import Channel, EvidenceKind, ImplementationStatus as S, ImportSource, Platform, ValidationDecision
from storage.importers.run import import_file
from storage.models import ChatIdentity, Evidence, FocalPoint, Institution, Recommendation, SecretariatUser, StatusUpdate, Validation
from storage.secretariat import SecretariatUserData, add_secretariat_user
from storage.status import EvidenceData, UpdateData, record_update
from storage.validations import validate
from tests.chat_harness import TELEGRAM_TOKEN
from tests.factories import network_sheets, write_workbook
from tests.fakes import FakeClock
from tests.test_progress_page import CHROMIUM, share_of
from tests.test_reports import run

VALIDATED_AT = datetime(2026, 3, 2, 15, tzinfo=timezone.utc)
# The unvalidated input's month: nothing else happens in it, so any trace of
# it in the page (a point of the chart over time, a date) is that input.
UNVALIDATED_AT = datetime(2026, 10, 7, 15, tzinfo=timezone.utc)
UNVALIDATED_MONTH = "2026-10"


@pytest.fixture
async def network(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> dict[str, int]:
    """The template's network (MOJ, PRISONS, MOW; Ana, Jorge the senior, Claire),
    each focal point on a chat platform, a secretariat user, and input:
    MOJ's first answer on R-1 validated by Jorge, its newer one waiting;
    MOW's answer on C-1 returned with a comment; PRISONS' answer never looked at."""
    await import_file(sessions, ImportSource.TEMPLATE, write_workbook(tmp_path / "network.xlsx", network_sheets()))
    async with sessions() as session, session.begin():
        people = {p.name: p for p in (await session.scalars(select(FocalPoint))).all()}
        recs = {r.external_id: r.id for r in (await session.scalars(select(Recommendation))).all()}
        ana, jorge, claire = people["Ana Pérez"], people["Jorge Silva"], people["Claire Martin"]
        await link_identity(session, ana.id, Platform.TELEGRAM, "", "7700112233", "7700112233")
        await link_identity(session, jorge.id, Platform.TELEGRAM, "", "7700445566", "7700445566")
        await link_identity(session, claire.id, Platform.SLACK, "T0FEMMES", "U0CLAIREMX", "D0CLAIRECH")
        boss = await add_secretariat_user(
            session, SecretariatUserData("Beatriz Secretaria", "beatriz@dnp.example", "es", "America/Montevideo", telegram_user_id=7799000111),
        )
        first = await record_update(session, UpdateData(
            recs["R-1"], S.IN_PROGRESS, "Ana Pérez", Channel.TELEGRAM, narrative="Narrative: the bill went to committee",
            next_step="Next step: a vote in the Senate", author_focal_point_id=ana.id,
        ), at=VALIDATED_AT)
        await session.flush()
        await validate(session, first.id, ValidationDecision.APPROVED, jorge, VALIDATED_AT + timedelta(hours=2))
        await record_update(session, UpdateData(
            recs["R-1"], S.FULLY_IMPLEMENTED, "Ana Pérez", Channel.TELEGRAM, narrative="Narrative: the law was promulgated",
            next_step="Next step: regulations", author_focal_point_id=ana.id,
            evidence=[EvidenceData(EvidenceKind.LINK, url="https://intranet.justicia.example/expediente/123")],
        ), at=UNVALIDATED_AT)
        theirs = await record_update(session, UpdateData(
            recs["C-1"], S.PARTIALLY_IMPLEMENTED, "Claire Martin", Channel.SLACK, narrative="Narratif : registre foncier ouvert",
            next_step="Étape suivante : formation", author_focal_point_id=claire.id,
        ), at=UNVALIDATED_AT)
        await session.flush()
        await validate(session, theirs.id, ValidationDecision.RETURNED, boss, UNVALIDATED_AT + timedelta(hours=1), comment="Comment: give the decree's number")
        prisons_id = await session.scalar(select(Institution.id).where(Institution.code == "PRISONS"))
        await record_update(session, UpdateData(
            recs["R-1"], S.NOT_APPLICABLE, "Pedro Carcelero", Channel.CLI, institution_id=prisons_id, narrative="Narrative: not ours",
        ), at=UNVALIDATED_AT)
    return {**recs, "ana": ana.id, "jorge": jorge.id, "claire": claire.id, "boss": boss.id}


@pytest.fixture
async def served(sessions: async_sessionmaker[AsyncSession], network: dict[str, int]) -> AsyncIterator[tuple[str, PublicTracker, FakeClock]]:
    """The bot's web server with the tracker, on 127.0.0.1 and a free port."""
    clock = FakeClock()
    tracker = PublicTracker(sessions, languages=["es", "en"], timezone="America/Montevideo", validated_only=True, clock=clock)
    server = WebServer(public=tracker)
    await server.start("127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.port}", tracker, clock
    finally:
        await server.stop()


async def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, dict(response.headers), await response.read()


def table(page: str) -> str:
    return page[page.index("<table>"):page.index("</table>")]


def as_of_line(page: str) -> str:
    return re.search(r'<p class="note">([^<]*)</p>', page)[1]  # type: ignore[index]


async def test_public_serves_what_report_progress_public_writes(served: tuple[str, PublicTracker, FakeClock], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base, _tracker, _clock = served
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.toml").write_text('[schedule]\ntimezone = "America/Montevideo"\n', encoding="utf-8")
    await run("report", "progress", "--public", "--language", "es", "--out", str(tmp_path / "es.html"))
    await run("report", "progress", "--public", "--language", "en", "--out", str(tmp_path / "en.html"))
    written = {lang: (tmp_path / f"{lang}.html").read_text(encoding="utf-8") for lang in ("es", "en")}
    status, headers, body = await fetch(f"{base}/public")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8" and headers["Content-Language"] == "es"
    page = body.decode("utf-8")
    # The same table and the same "as of" figures as the file, in the first language configured.
    assert table(page) == table(written["es"]) and as_of_line(page) == as_of_line(written["es"])
    assert as_of_line(page) == "Al 23 de noviembre de 2026: 3 recomendaciones, 1 de ellas con una actualización (33,3\u00a0%)."
    assert page.count("<svg") == 4 and 'lang="es"' in page
    # With the moment it was built, where the secretariat is, and links to the other language.
    assert "Datos al 2026-11-23 10:00 (America/Montevideo)" in page and '<a href="/public/en" hreflang="en" lang="en">English</a>' in page
    for url in (f"{base}/public/en", f"{base}/public?lang=en"):
        status, headers, body = await fetch(url)
        english = body.decode("utf-8")
        assert status == 200 and headers["Content-Language"] == "en" and table(english) == table(written["en"])
        assert '<a href="/public/es" hreflang="es" lang="es">Español</a>' in english and "Figures as of 2026-11-23 10:00" in english
    # Security headers: nothing may be loaded from anywhere; no sniffing.
    for header, value in PUBLIC_HEADERS.items():
        assert headers[header] == value
    assert "default-src 'none'" in headers["Content-Security-Policy"] and headers["X-Content-Type-Options"] == "nosniff"
    # The JSON: the same figures, statuses by their codes.
    status, headers, body = await fetch(f"{base}/public.json")
    data = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json; charset=utf-8" and headers["Content-Security-Policy"]
    assert (data["total"], data["answered"], data["validated_only"], data["as_of"]) == (3, 1, True, "2026-11-23T13:00:00Z")
    assert data["by_status"] == {"in_progress": 1, "not_started": 2}
    by_id = {r["external_id"]: r for r in data["recommendations"]}
    assert by_id["R-1"]["status"] == "in_progress" and by_id["C-1"]["status"] == "not_started"
    # Each institution by its own validated answer: MOJ's of March; PRISONS' and MOW's do not count yet.
    assert by_id["R-1"]["institutions"] == [
        {"institution": "MOJ", "role": "lead", "status": "in_progress", "at": "2026-03-02T15:00:00Z"},
        {"institution": "PRISONS", "role": "contributing", "status": None, "at": None},
    ]
    assert data["response"]["MOJ"] == {"assigned": 1, "answered": 1} and data["response"]["MOW"] == {"assigned": 2, "answered": 0}
    assert data["updates_by_month"] == {"2026-03": 1}
    assert (await fetch(f"{base}/public/en.json"))[2].startswith(b"{") and json.loads((await fetch(f"{base}/public/en.json"))[2])["language"] == "en"
    # A language not published is refused naming those that are.
    status, _, body = await fetch(f"{base}/public/fr")
    assert status == 404 and body.decode() == "No public page in 'fr'; it is published in: es, en."
    assert (await fetch(f"{base}/public.json?lang=de"))[0] == 404


async def personal_fields(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """Every personal or internal field of the network, read from the database."""
    personal: list[str] = []
    async with sessions() as session:
        for person in (await session.scalars(select(FocalPoint))).all():
            personal += [person.name, person.email]
        for user in (await session.scalars(select(SecretariatUser))).all():
            personal += [user.name, user.email]
        for identity in (await session.scalars(select(ChatIdentity))).all():
            personal += [identity.platform_user_id, identity.chat_id or "", identity.workspace_id]
        for update in (await session.scalars(select(StatusUpdate))).all():
            personal += [update.narrative or "", update.next_step or "", update.author_label]
        personal += [e.url or e.file_name or "" for e in (await session.scalars(select(Evidence))).all()]
        personal += [v.comment or "" for v in (await session.scalars(select(Validation))).all()]
    return [p for p in personal if p]


def leaked(personal: list[str], data: bytes) -> list[str]:
    """The fields found in ``data``, as typed, HTML-escaped or JSON-escaped."""
    return [p for p in personal if any(form.encode() in data for form in (p, html.escape(p), json.dumps(p)[1:-1]))]


async def test_nothing_personal_or_internal_is_served(served: tuple[str, PublicTracker, FakeClock], sessions: async_sessionmaker[AsyncSession], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base, _tracker, _clock = served
    personal = await personal_fields(sessions)
    assert len(personal) >= 25
    served_bytes = b"".join([(await fetch(f"{base}{path}"))[2] for path in ("/public", "/public/en", "/public.json", "/public/en.json")])
    assert leaked(personal, served_bytes) == []
    # The unvalidated inputs leave no trace: not their status, not their month on the chart over time, not their date.
    for trace in (UNVALIDATED_MONTH.encode(), b"2026-10-07", b"fully_implemented", b"partially_implemented", b"not_applicable"):
        assert trace not in served_bytes, trace
    assert b">en curso<" in served_bytes.lower() and b"completamente implementada" not in served_bytes.lower()
    # The check can fail: the internal page, made from the same database, holds these fields.
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    await run("report", "progress", "--out", str(tmp_path / "internal.html"))
    internal = (tmp_path / "internal.html").read_bytes()
    assert b"Ana P\xc3\xa9rez" in internal and b"the law was promulgated" in internal and UNVALIDATED_MONTH.encode() in internal


async def test_the_page_is_current_within_a_minute_and_built_once_for_many(served: tuple[str, PublicTracker, FakeClock], sessions: async_sessionmaker[AsyncSession], network: dict[str, int]) -> None:
    base, tracker, clock = served
    first = json.loads((await fetch(f"{base}/public.json"))[2])
    assert first["by_status"] == {"in_progress": 1, "not_started": 2} and tracker.builds == 1
    # Jorge approves the newer input: it counts, once the page is rebuilt.
    async with sessions() as session, session.begin():
        jorge = await session.get(FocalPoint, network["jorge"])
        newer = await session.scalar(select(StatusUpdate.id).where(
            StatusUpdate.recommendation_id == network["R-1"], StatusUpdate.narrative == "Narrative: the law was promulgated",
        ))
        assert jorge is not None and newer is not None
        await validate(session, newer, ValidationDecision.APPROVED, jorge, clock())
    clock.advance(seconds=59)
    kept = json.loads((await fetch(f"{base}/public.json"))[2])
    assert kept == first and tracker.builds == 1
    clock.advance(seconds=2)
    # Twenty visitors at once past the minute: one build serves them all.
    answers = await asyncio.gather(*(fetch(f"{base}/public.json") for _ in range(20)))
    assert tracker.builds == 2 and len({body for _, _, body in answers}) == 1
    now = json.loads(answers[0][2])
    assert now["by_status"] == {"fully_implemented": 1, "not_started": 2} and now["as_of"] == "2026-11-23T13:01:01Z"
    assert now["updates_by_month"] == {"2026-03": 1, "2026-10": 1}
    # Each language keeps its own page, built on its first visit.
    await fetch(f"{base}/public/en")
    assert tracker.builds == 3


async def test_a_database_that_does_not_answer_serves_the_last_page_or_503(network: dict[str, int], sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock()
    broken = False
    asked = 0

    class Sessions:
        def __call__(self) -> AsyncSession:
            nonlocal asked
            asked += 1
            if broken:
                raise ConnectionRefusedError("database down")
            return sessions()

    tracker = PublicTracker(Sessions(), languages=["en"], timezone="UTC", validated_only=True, clock=clock)  # type: ignore[arg-type]
    server = WebServer(public=tracker)
    await server.start("127.0.0.1", 0)
    try:
        ok = await fetch(f"http://127.0.0.1:{server.port}/public")
        broken = True
        clock.advance(minutes=5)
        stale = await fetch(f"http://127.0.0.1:{server.port}/public")
        assert ok[0] == stale[0] == 200 and stale[2] == ok[2] and asked == 2
        # While it is down, a crowd does not ask it once a request: ten seconds between tries.
        await asyncio.gather(*(fetch(f"http://127.0.0.1:{server.port}/public") for _ in range(10)))
        assert asked == 2
        clock.advance(seconds=11)
        broken = False
        fresh_again = await fetch(f"http://127.0.0.1:{server.port}/public")
        assert asked == 3 and fresh_again[0] == 200 and tracker.builds == 2
        broken = True
        fresh = PublicTracker(Sessions(), languages=["en"], timezone="UTC", validated_only=True, clock=clock)  # type: ignore[arg-type]
        server.public = fresh
    finally:
        await server.stop()
    other = WebServer(public=fresh)
    await other.start("127.0.0.1", 0)
    try:
        status, headers, body = await fetch(f"http://127.0.0.1:{other.port}/public")
        assert status == 503 and headers["Retry-After"] == "60" and b"database" not in body
    finally:
        await other.stop()


async def test_a_build_does_not_hold_up_the_event_loop(network: dict[str, int], sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch) -> None:
    """The charts are drawn in a worker thread: the chats on the same loop go on meanwhile."""
    import time

    # Where bot.public_tracker finds it, in the worker thread, at each build.
    import bot.reports.progress_page as page_module

    real = page_module.render_progress_page

    def slow(*args: object, **kwargs: object) -> str:
        time.sleep(0.6)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(page_module, "render_progress_page", slow)
    tracker = PublicTracker(sessions, languages=["en"], timezone="UTC", validated_only=True, clock=FakeClock())
    build = asyncio.create_task(tracker.page("en"))
    ticks = 0
    while not build.done():
        await asyncio.sleep(0.05)
        ticks += 1
    assert (await build).html.startswith(b"<!DOCTYPE html>") and ticks >= 8


async def test_public_requires_validation_false_counts_every_input(network: dict[str, int], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    await run("report", "progress", "--public", "--language", "en", "--out", str(tmp_path / "validated.html"))
    (tmp_path / "config.toml").write_text("[reports]\npublic_requires_validation = false\n", encoding="utf-8")
    await run("report", "progress", "--public", "--language", "en", "--out", str(tmp_path / "all.html"))
    validated, every = ((tmp_path / f"{name}.html").read_text(encoding="utf-8") for name in ("validated", "all"))
    assert "1 of 3 recommendations have an update" in validated and "Only input validated by each institution is counted." in validated
    assert "2 of 3 recommendations have an update" in every and "Only input validated" not in every
    assert "fully implemented" in table(every) and "fully implemented" not in table(validated)


async def test_report_export_public_holds_validated_statuses_and_nothing_personal(network: dict[str, int], sessions: async_sessionmaker[AsyncSession], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NMRF_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    personal = await personal_fields(sessions)
    for fmt in ("json", "csv"):
        await run("report", "export", "--public", "--format", fmt, "--out", str(tmp_path / f"public.{fmt}"))
        await run("report", "export", "--format", fmt, "--out", str(tmp_path / f"internal.{fmt}"))
        public, internal = (tmp_path / f"public.{fmt}").read_bytes(), (tmp_path / f"internal.{fmt}").read_bytes()
        assert leaked(personal, public) == [] and b"fully_implemented" not in public and b"2026-10-07" not in public
        # The check can fail: the internal export holds them.
        assert len(leaked(personal, internal)) >= 5 and b"fully_implemented" in internal
    rows = {r["external_id"]: r for r in json.loads((tmp_path / "public.json").read_text(encoding="utf-8"))}
    assert (rows["R-1"]["status"], rows["C-1"]["status"], rows["R-2"]["status"]) == ("in_progress", "not_started", "not_started")
    assert rows["R-1"]["inputs"][0] == {"institution": "MOJ", "role": "lead", "status": "in_progress", "at": rows["R-1"]["inputs"][0]["at"]}
    assert "narrative" not in rows["R-1"] and "update_id" not in rows["R-1"]["inputs"][0] and "id" not in rows["R-1"]
    (tmp_path / "config.toml").write_text("[reports]\npublic_requires_validation = false\n", encoding="utf-8")
    await run("report", "export", "--public", "--format", "json", "--out", str(tmp_path / "every.json"))
    every = {r["external_id"]: r for r in json.loads((tmp_path / "every.json").read_text(encoding="utf-8"))}
    assert every["R-1"]["status"] == "fully_implemented" and leaked(personal, (tmp_path / "every.json").read_bytes()) == []


def test_the_configuration_of_the_tracker(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[public]\nenabled = true\nlanguages = ["es", "en"]\n', encoding="utf-8")
    config = load_config(path, environ={})
    assert config.public.enabled and config.public.languages == ["es", "en"] and config.reports.public_requires_validation
    for bad, said in (('["es", "es"]', "each language once; given more than once: es"), ('["xx"]', "expected one of"), ("[]", "at least 1")):
        path.write_text(f"[public]\nenabled = true\nlanguages = {bad}\n", encoding="utf-8")
        with pytest.raises(Exception, match=re.escape(said)):
            load_config(path, environ={})


async def test_nmrf_bot_run_serves_it_when_enabled(sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[public]\nenabled = true\nlanguages = ["fr"]\n', encoding="utf-8")
    config = load_config(path, environ={"NMRF_TELEGRAM_TOKEN": TELEGRAM_TOKEN})
    app = BotApp(config, sessions, FakeClock())
    assert app.web is not None and app.web.public is app.public and app.public is not None and app.public.languages == ("fr",)
    assert app.public.validated_only
    path.write_text("[http]\nhealth = true\n", encoding="utf-8")
    plain = BotApp(load_config(path, environ={"NMRF_TELEGRAM_TOKEN": TELEGRAM_TOKEN}), sessions, FakeClock())
    assert plain.web is not None and plain.web.public is None


# Headless Chromium: the charts are drawn, and no request leaves the page.

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
    "--disable-client-side-phishing-detection", "--metrics-recording-only", "--hide-scrollbars", "--window-size=1200,1800",
    # The browser's own calls home (its clock, hints, translation), which are not the page's requests.
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,OptimizationHintsFetching,Translate,MediaRouter,AutofillServerCommunication",
]


async def _recording_proxy(seen: list[str]) -> web.AppRunner:
    """An HTTP proxy that answers nothing and writes down every request sent
    to it, but the browser's own update and clock checks: those are signed
    with Chromium's Client Update Protocol (a cup2key parameter), which no
    page makes, and headless Chromium sends them whatever its flags say."""

    async def record(request: web.Request) -> web.Response:
        if "cup2key" not in request.query:
            seen.append(f"{request.method} {request.host} {request.path_qs}")
        return web.Response(status=403)

    proxy = web.Application()
    proxy.router.add_route("*", "/{tail:.*}", record)
    runner = web.AppRunner(proxy, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


async def _screenshot(url: str, out: Path, profile: Path, proxy_port: int) -> None:
    assert CHROMIUM, "Debian's chromium is needed (.ci/run installs it)"
    # Every request not to 127.0.0.1 goes to the recording proxy (loopback
    # is never proxied), and no name resolves, so nothing can reach outside.
    command = [
        CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--proxy-server=http://127.0.0.1:{proxy_port}",
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", "--virtual-time-budget=3000", f"--screenshot={out}", url,
    ]
    await asyncio.to_thread(subprocess.run, command, check=True, capture_output=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
async def test_chromium_draws_the_public_page_and_no_request_leaves_it(served: tuple[str, PublicTracker, FakeClock], tmp_path: Path) -> None:
    from PIL import Image

    base, _tracker, _clock = served
    seen: list[str] = []
    proxy = await _recording_proxy(seen)
    proxy_port = proxy.addresses[0][1]
    # Pages with an outside image and an outside stylesheet, served as is and with the tracker's headers.
    page = (await fetch(f"{base}/public"))[2].decode("utf-8")
    tampered = page.replace("<h1>", '<img src="http://tracker.example/pixel.png"><link rel="stylesheet" href="http://cdn.example/x.css"><h1>')
    tamper = web.Application()

    async def bare(_request: web.Request) -> web.Response:
        return web.Response(text=tampered, content_type="text/html")

    async def guarded(_request: web.Request) -> web.Response:
        return web.Response(text=tampered, content_type="text/html", headers=PUBLIC_HEADERS)

    tamper.router.add_get("/bare", bare)
    tamper.router.add_get("/guarded", guarded)
    runner = web.AppRunner(tamper, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    tamper_base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        shot = tmp_path / "public.png"
        await _screenshot(f"{base}/public", shot, tmp_path / "profile", proxy_port)
        assert seen == [], seen
        image = Image.open(shot).convert("RGB")
        # The charts are drawn: the response-rate and "in progress" bars are on screen, not a blank page.
        assert share_of(image, (0x4F, 0x9A, 0xD8)) > 0.0005 and share_of(image, (0xF2, 0xB1, 0x34)) > 0.0005
        assert len(image.resize((60, 90)).getcolors(60 * 90) or []) > 20
        # The check can fail: without the headers, the outside requests are made (and recorded)...
        await _screenshot(f"{tamper_base}/bare", tmp_path / "bare.png", tmp_path / "profile2", proxy_port)
        assert any("tracker.example" in s for s in seen) and any("cdn.example" in s for s in seen), seen
        # ...and with them the browser makes none.
        seen.clear()
        await _screenshot(f"{tamper_base}/guarded", tmp_path / "guarded.png", tmp_path / "profile3", proxy_port)
        assert seen == [], seen
    finally:
        await runner.cleanup()
        await proxy.cleanup()


async def test_nmrf_bot_run_serves_the_tracker_over_http(network: dict[str, int], db_url: str, tmp_path: Path) -> None:
    """The real process: `nmrf-bot run` with [public] enabled, both platforms' stand-ins, /public fetched over HTTP."""
    import signal
    import socket

    from bot.standins.slack import SlackStandIn
    from bot.standins.telegram import TelegramStandIn
    from tests.test_run import NMRF_BOT, _environment

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    telegram, slack = TelegramStandIn(TELEGRAM_TOKEN), SlackStandIn()
    await telegram.start()
    await slack.start()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\nbase_url = "{telegram.base_url}"\n[slack]\napi_url = "{slack.api_url}"\n'
        f'[http]\nhost = "127.0.0.1"\nport = {port}\n[public]\nenabled = true\nlanguages = ["fr", "en"]\n',
        encoding="utf-8",
    )
    process = await asyncio.create_subprocess_exec(
        NMRF_BOT, "--config", str(config), "run", env=_environment(db_url, slack),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await slack.wait_for_socket(timeout=30)
        status, headers, body = await fetch(f"http://127.0.0.1:{port}/public")
        data = json.loads((await fetch(f"http://127.0.0.1:{port}/public/en.json"))[2])
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
        await telegram.stop()
        await slack.stop()
    assert process.returncode == 0, stderr.decode()
    page = body.decode("utf-8")
    assert status == 200 and headers["Content-Language"] == "fr" and "<h1>Avancement de la mise en œuvre</h1>" in page and page.count("<svg") == 4
    assert headers["Content-Security-Policy"] == PUBLIC_HEADERS["Content-Security-Policy"]
    assert '<a href="/public/en"' in page and "Ana P" not in page
    assert data["language"] == "en" and data["by_status"] == {"in_progress": 1, "not_started": 2}
