"""Real bot processes sending a fan-out: killed with SIGKILL and restarted,
and two at once on one PostgreSQL database. Counted at the Telegram stand-in."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.standins.telegram import TelegramStandIn
from storage.enums import OutboxStatus
from storage.models import OutboxMessage
from tests.chat_harness import TELEGRAM_TOKEN
from tests.outbox_harness import queue_due_reminders

NMRF_BOT = str(Path(sys.executable).with_name("nmrf-bot"))
FAN_OUT = 150
FIRST_USER = 10_000


async def fan_out(sessions: async_sessionmaker[AsyncSession], standin: TelegramStandIn, n: int = FAN_OUT) -> None:
    await queue_due_reminders(sessions, standin, ((FIRST_USER + i, f"fp {i}", f"reminder:focal_point:{i}:2026-11-23", f"reminder {i}") for i in range(n)))


# The operator's private channel where the bot looks for a send a crash cut off.
CHECK_CHANNEL = -1001234567890


async def start_bot(tmp_path: Path, standin: TelegramStandIn, db_url: str, delivery_check: bool = False) -> asyncio.subprocess.Process:
    config = tmp_path / "config.toml"
    check = f"delivery_check_chat_id = {CHECK_CHANNEL}\n" if delivery_check else ""
    config.write_text(f'[telegram]\nbase_url = "{standin.base_url}"\n{check}', encoding="utf-8")
    env = {**os.environ, "NMRF_DATABASE_URL": db_url, "NMRF_TELEGRAM_TOKEN": TELEGRAM_TOKEN}
    return await asyncio.create_subprocess_exec(
        NMRF_BOT, "--config", str(config), "run", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )


async def wait_for(condition, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.02)


async def all_sent(sessions: async_sessionmaker[AsyncSession]) -> bool:
    async with sessions() as session:
        left = await session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != OutboxStatus.SENT))
    return left == 0


def counts(standin: TelegramStandIn) -> tuple[int, int]:
    """(lost, duplicated) among the fan-out's messages."""
    received = Counter(m.text for m in standin.sent if m.text.startswith("reminder "))
    lost = FAN_OUT - len(received)
    duplicated = sum(n - 1 for n in received.values())
    return lost, duplicated


async def stop(process: asyncio.subprocess.Process) -> str:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    return stderr.decode()


async def kill_during_fan_out(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], delivery_check: bool) -> tuple[int, int, int, int, int]:
    """Three SIGKILLs during a fan-out of FAN_OUT reminders, then a restart
    that finishes it: (lost, duplicated, kills, sends cut off in flight, of
    those the ones found to have arrived and so not sent again)."""
    standin = TelegramStandIn(TELEGRAM_TOKEN, max_per_second=30, max_per_chat_per_second=1)
    standin.add_channel(CHECK_CHANNEL, "nmrf-bot delivery checks")
    await standin.start()
    logs: list[str] = []
    try:
        await fan_out(sessions, standin)
        kills = 0
        for at in (20, 60, 100):
            process = await start_bot(tmp_path, standin, db_url, delivery_check)

            async def reached(at: int = at) -> bool:
                return len(standin.sent) >= at

            await wait_for(reached)
            process.send_signal(signal.SIGKILL)
            await process.wait()
            logs.append((await process.stderr.read()).decode() if process.stderr else "")
            kills += 1
        process = await start_bot(tmp_path, standin, db_url, delivery_check)

        async def done() -> bool:
            return await all_sent(sessions)

        await wait_for(done, timeout=120)
        log = await stop(process)
        logs.append(log)
        assert process.returncode == 0, log
    finally:
        await standin.stop()
    lost, duplicated = counts(standin)
    async with sessions() as session:
        cut_off = await session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.interrupted_send_at.is_not(None)))
    # The copies forwarded to look for them are deleted again.
    assert all(not posts for posts in standin.channel_posts.values())
    found = sum(text.count("had reached the platform before the crash") for text in logs)
    return lost, duplicated, kills, cut_off or 0, found


@pytest.mark.fault
async def test_sigkill_during_a_fan_out_loses_nothing_and_sends_nothing_twice(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], fault_report: dict[str, object]) -> None:
    lost, duplicated, kills, cut_off, found = await kill_during_fan_out(tmp_path, db_url, sessions, delivery_check=True)
    fault_report.update(sent=FAN_OUT, duplicated=duplicated, lost=lost, kills=kills, sends_cut_off=cut_off, found_arrived_not_resent=found)
    # Each send a kill cut off was looked for in the chat before any resend.
    assert lost == 0 and duplicated == 0
    print(f"\nSIGKILL x{kills}: {FAN_OUT} reminders, lost {lost}, duplicated {duplicated}, sends cut off {cut_off}, found arrived {found}")


async def test_without_a_delivery_check_chat_only_a_send_cut_off_can_repeat(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession]) -> None:
    lost, duplicated, kills, cut_off, found = await kill_during_fan_out(tmp_path, db_url, sessions, delivery_check=False)
    assert found == 0
    assert lost == 0
    # Telegram cannot be asked: a copy can only come from a send the platform
    # had when the process died; each process has at most 4 sends in flight.
    assert duplicated <= cut_off <= kills * 4
    async with sessions() as session:
        flagged = await session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.ambiguous.is_(True)))
    assert flagged == cut_off


@pytest.mark.skipif(not os.environ.get("NMRF_TEST_DATABASE_URL"), reason="needs PostgreSQL (NMRF_TEST_DATABASE_URL)")
async def test_two_processes_on_postgresql_never_send_the_same_reminder(tmp_path: Path, db_url: str, sessions: async_sessionmaker[AsyncSession], backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("two processes share one database on PostgreSQL")
    standin = TelegramStandIn(TELEGRAM_TOKEN, max_per_second=30, max_per_chat_per_second=1)
    await standin.start()
    try:
        await fan_out(sessions, standin)
        first, second = await start_bot(tmp_path, standin, db_url), await start_bot(tmp_path, standin, db_url)

        async def done() -> bool:
            return await all_sent(sessions)

        await wait_for(done, timeout=120)
        logs = [await stop(first), await stop(second)]
        assert first.returncode == 0 and second.returncode == 0, logs
    finally:
        await standin.stop()
    assert counts(standin) == (0, 0)
    async with sessions() as session:
        workers = set((await session.scalars(select(OutboxMessage.claimed_by))).all())
    assert len(workers) == 2, "both processes should have sent part of the fan-out"
