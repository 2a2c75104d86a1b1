"""assign --remove: an assignment taken back keeps its history, and a notice
not yet sent that names it never goes out; what is still assigned is told later."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.enums import OutboxKind, OutboxStatus
from storage.models import AuditEntry, StatusUpdate
from tests.test_assignment_notices import ANA, JORGE, Bench, _buttons, _network, at, bench

__all__ = ["bench"]


async def test_removing_an_assignment_withdraws_the_unsent_notice_and_keeps_history(bench: Bench) -> None:
    await _network(bench)
    r1, r2 = await bench.ids("R-1", "R-2")
    bench.clock.now = at(23, 13, 10)
    await bench.cli("assign", "--institution", "MOJ", "--ids", f"{r1},{r2}")
    # The day's notice is planned at 16:00 in Montevideo (19:00 UTC), not yet sent.
    bench.clock.now = at(23, 19, 5)
    await bench.service.tick()
    planned = [r for r in await bench.rows() if r.kind == OutboxKind.ASSIGNMENT_NOTICE]
    assert planned and all(r.status == OutboxStatus.PENDING for r in planned)

    out = await bench.cli("assign", "--remove", "--institution", "MOJ", "--ids", f"{r1}")
    assert out == f"1 removed, 0 were not assigned to it, {len(planned)} notice(s) not yet sent withdrawn\n"
    await bench.dispatcher.drain()
    assert bench.to(ANA) == [] and bench.to(JORGE) == []
    assert not {p.id for p in planned} & {r.id for r in await bench.rows()}

    # The same day's hour is not over: a new notice tells what is still assigned, and only that.
    await bench.run(at(23, 19, 30), minutes=10)
    assert [_buttons(m) for m in bench.to(ANA)] == [[f"rec:{r2}"]]
    await bench.run(at(24, 19, 30), minutes=30)
    assert len(bench.to(ANA)) == 1

    async with bench.sessions() as session:
        removed = (await session.scalars(select(AuditEntry).where(AuditEntry.entity == "assignments", AuditEntry.action == "delete"))).all()
        assert len(removed) == 1 and removed[0].actor.startswith("cli")
        assert (await session.scalars(select(StatusUpdate))).all() == []

    out = await bench.cli("assign", "--remove", "--institution", "MOJ", "--ids", f"{r1},{r2}")
    assert out == "1 removed, 1 were not assigned to it\n"


async def test_removing_names_an_unknown_institution_or_id(bench: Bench) -> None:
    await _network(bench)
    (r1,) = await bench.ids("R-1")
    await bench.cli("assign", "--institution", "MOJ", "--ids", str(r1))
    for args, said in (
        (("--institution", "NOPE", "--ids", str(r1)), "NOPE"),
        (("--institution", "MOJ", "--ids", f"{r1},999"), "999"),
    ):
        _, err = await asyncio.to_thread(bench._cli, "assign", "--remove", *args, expect=1)
        assert err.startswith("error:") and said in err
    out = await bench.cli("assign", "--remove", "--institution", "MOJ", "--ids", str(r1))
    assert out.startswith("1 removed")
