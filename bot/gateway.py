"""The ChatGateway the engine talks to: each reply goes to the platform of
the person it is for."""

from __future__ import annotations

from typing import Protocol

from bot.chat_port import ChatAddress, OutgoingMessage
from storage.enums import Platform


class Transport(Protocol):
    platform: Platform

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> None: ...


class PlatformRouter:
    def __init__(self) -> None:
        self._transports: dict[Platform, Transport] = {}

    def register(self, transport: Transport) -> None:
        self._transports[transport.platform] = transport

    async def send(self, address: ChatAddress, message: OutgoingMessage) -> None:
        transport = self._transports.get(address.platform)
        if transport is None:
            raise LookupError(f"no {address.platform.value} adapter is running: check the configuration")
        await transport.send(address, message)
