"""`nmrf-bot chat`: the terminal stands in for the platform, so it must also
deliver again what the engine deferred."""

from __future__ import annotations

from handlers.chat_port import HandlingDeferred, IncomingMessage
from bot.terminal import deliver
from tests.fakes import Person


class DownThenBack:
    def __init__(self, outage: int) -> None:
        self.outage = outage
        self.handled: list[IncomingMessage] = []

    async def handle(self, message: IncomingMessage) -> None:
        if self.outage:
            self.outage -= 1
            raise HandlingDeferred("the database is out of reach")
        self.handled.append(message)


async def test_a_line_typed_while_the_database_is_down_is_handled_when_it_is_back() -> None:
    engine = DownThenBack(outage=3)
    line = Person().says("/mine")
    await deliver(engine, line, wait=0)  # type: ignore[arg-type]
    assert engine.handled == [line]
