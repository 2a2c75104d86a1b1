"""The ChatGateway the engine talks to: each reply goes to the platform of
the person it is for."""

from __future__ import annotations

from typing import Protocol

from handlers.chat_port import ChatAddress, DeliveryProbe, OutgoingMessage, PressedMessage, Sent
from storage.enums import Platform


class Transport(Protocol):
    platform: Platform

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> Sent | None: ...


class PlatformRouter:
    def __init__(self) -> None:
        self._transports: dict[Platform, Transport] = {}

    def register(self, transport: Transport) -> None:
        self._transports[transport.platform] = transport

    def _transport(self, address: ChatAddress) -> Transport:
        transport = self._transports.get(address.platform)
        if transport is None:
            raise LookupError(f"no {address.platform.value} adapter is running: check the configuration")
        return transport

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> Sent | None:
        return await self._transport(address).send(address, message)

    async def delivered(self, address: ChatAddress, probe: DeliveryProbe) -> bool | None:
        """True or False where the platform can tell, None where it cannot."""
        check = getattr(self._transport(address), "delivered", None)
        return await check(address, probe) if check is not None else None

    async def settle(self, address: ChatAddress, pressed: PressedMessage, choice: str) -> None:
        """The pressed message edited to show the choice, where the platform can."""
        settle = getattr(self._transport(address), "settle", None)
        if settle is not None:
            await settle(address, pressed, choice)

    def refresh_home(self, address: ChatAddress) -> None:
        """The person's Home rebuilt, where the platform has one (a HomeRefresher)."""
        transport = self._transports.get(address.platform)
        refresh = getattr(transport, "refresh_home", None)
        if refresh is not None:
            refresh(address)
