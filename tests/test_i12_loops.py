"""The scheduled loops of `nmrf-bot run` (the reminder planner and the
sweeps) outlive any error, not only the database driver's: a refused
connection, a timeout or a bug is recorded, /healthz names the loop as
failing while it lasts, the log says so once when it begins and once when
it is over (not at every run), and the next run works again (issue 12).
Run through the jobs the scheduler really holds, not a copy of them."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import SCHEDULED, BotApp
from bot.config import Config
from handlers.engine import ConversationEngine
from tests.chat_harness import TELEGRAM_TOKEN

# Each scheduled loop, its job's id and the method the job runs.
JOBS = {
    "reminder planner": ("plan_reminders", BotApp, "plan"),
    "dialogue sweep": ("expire_abandoned_dialogues", ConversationEngine, "expire_abandoned"),
    "delivery records sweep": ("forget_old_deliveries", ConversationEngine, "forget_old_deliveries"),
    "import staging sweep": ("sweep_import_staging", ConversationEngine, "sweep_imports"),
}
FAILURES = 5


def test_every_scheduled_loop_is_covered() -> None:
    assert set(JOBS) == set(SCHEDULED)


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"),
    TimeoutError(),
    RuntimeError("a bug"),
], ids=["refused", "timeout", "bug"])
@pytest.mark.parametrize("name", list(JOBS))
async def test_a_scheduled_loop_survives_any_error_says_so_once_and_is_red_meanwhile(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
    name: str, error: Exception,
) -> None:
    job_id, owner, method = JOBS[name]
    calls = 0

    async def failing_then_working(*_args: object, **_kwargs: object) -> int:
        nonlocal calls
        calls += 1
        if calls <= FAILURES:
            raise error
        return 0

    monkeypatch.setattr(owner, method, failing_then_working)
    app = BotApp(Config.model_validate({"telegram": {"token": TELEGRAM_TOKEN}}), sessions)
    job = app.scheduler.get_job(job_id)
    assert job is not None
    caplog.set_level(logging.DEBUG)
    for tries in range(1, FAILURES + 1):
        await job.func()  # raises nothing: the scheduler would run it again
        state = app.loops.report()[name]
        assert (state["ok"], state["state"], state["tries"]) == (False, "failing", tries), state
    await job.func()
    assert app.loops.report()[name] == {"ok": True, "state": "ok"}
    assert calls == FAILURES + 1
    said = [r for r in caplog.records if r.getMessage().startswith(f"{name}: ")]
    assert len(said) == 2, [r.getMessage() for r in said]
    assert "trying again until it works" in said[0].getMessage()
    assert said[1].getMessage().startswith(f"{name}: working again after {FAILURES} failed tries")
    # An outage is one line; a bug is the one traceback its fixer needs.
    assert [bool(r.exc_info) for r in caplog.records if r.exc_info] == ([True] if isinstance(error, RuntimeError) else [])
