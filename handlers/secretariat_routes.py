"""How a secretariat capability plugs into the chat: the commands it
answers, the button verbs it owns, the dialogues whose typed answers it
reads, and whether it takes files. Each capability's module declares one
``Routes`` (``ROUTES = Routes(...)``) and handlers.secretariat lists the
modules; every entry names the role it needs, checked before it runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from handlers.turn import SecretariatTurn
from storage.enums import SecretariatRole

# A command's handler gets the words typed after the command, as typed.
CommandRun = Callable[[SecretariatTurn, str], Awaitable[None]]
# A button's handler gets the part of the payload after "verb:"; False when
# the press does not fit (the person is shown the help).
ActionRun = Callable[[SecretariatTurn, str], Awaitable[bool]]
# A typed answer to the step a dialogue is at; False when it is not this one's.
TextRun = Callable[[SecretariatTurn, str], Awaitable[bool]]
# Files sent (turn.message.files); False when this capability does not take them now.
FilesRun = Callable[[SecretariatTurn], Awaitable[bool]]


@dataclass(frozen=True)
class Command:
    role: SecretariatRole
    run: CommandRun
    # The catalog key of its line in the help (shown only to roles that may use it).
    help: str
    # Whether it ends a dialogue that is open (a list, a summary) or works inside it.
    resets: bool = True


@dataclass(frozen=True)
class Action:
    role: SecretariatRole
    run: ActionRun


@dataclass(frozen=True)
class Dialogue:
    """The typed answers to states whose name starts with ``prefix``."""

    role: SecretariatRole
    on_text: TextRun
    # Called when the person cancels it (/cancel, a Cancel button), before the
    # state is reset: for what the dialogue keeps outside it (a staged file).
    on_cancel: Callable[[SecretariatTurn], None] | None = None


@dataclass(frozen=True)
class Files:
    role: SecretariatRole
    run: FilesRun


@dataclass(frozen=True)
class Routes:
    commands: Mapping[str, Command] = field(default_factory=dict)
    actions: Mapping[str, Action] = field(default_factory=dict)
    # State-name prefix ("compose.") -> its dialogue.
    dialogues: Mapping[str, Dialogue] = field(default_factory=dict)
    files: Files | None = None
