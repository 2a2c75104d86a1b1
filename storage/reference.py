"""Reference data every registry holds: the UN human-rights mechanisms.

Kept in code and synced by ``nmrf-bot db upgrade`` (not frozen in a
migration), so a corrected name or a new body reaches existing databases.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import MechanismKind
from storage.models import Mechanism


@dataclass(frozen=True)
class MechanismInfo:
    code: str
    name: str
    kind: MechanismKind
    treaty: str | None = None


MECHANISMS: tuple[MechanismInfo, ...] = (
    MechanismInfo("UPR", "Universal Periodic Review", MechanismKind.UPR),
    MechanismInfo(
        "CERD", "Committee on the Elimination of Racial Discrimination", MechanismKind.TREATY_BODY, "ICERD"
    ),
    MechanismInfo("CCPR", "Human Rights Committee", MechanismKind.TREATY_BODY, "ICCPR"),
    MechanismInfo(
        "CESCR", "Committee on Economic, Social and Cultural Rights", MechanismKind.TREATY_BODY, "ICESCR"
    ),
    MechanismInfo(
        "CEDAW",
        "Committee on the Elimination of Discrimination against Women",
        MechanismKind.TREATY_BODY,
        "CEDAW",
    ),
    MechanismInfo("CAT", "Committee against Torture", MechanismKind.TREATY_BODY, "CAT"),
    MechanismInfo(
        "SPT", "Subcommittee on Prevention of Torture", MechanismKind.TREATY_BODY, "OPCAT"
    ),
    MechanismInfo("CRC", "Committee on the Rights of the Child", MechanismKind.TREATY_BODY, "CRC"),
    MechanismInfo(
        "CRC-OP-AC",
        "Committee on the Rights of the Child (Optional Protocol on children in armed conflict)",
        MechanismKind.TREATY_BODY,
        "OPAC",
    ),
    MechanismInfo(
        "CRC-OP-SC",
        "Committee on the Rights of the Child (Optional Protocol on the sale of children)",
        MechanismKind.TREATY_BODY,
        "OPSC",
    ),
    MechanismInfo("CMW", "Committee on Migrant Workers", MechanismKind.TREATY_BODY, "ICMW"),
    MechanismInfo(
        "CRPD", "Committee on the Rights of Persons with Disabilities", MechanismKind.TREATY_BODY, "CRPD"
    ),
    MechanismInfo("CED", "Committee on Enforced Disappearances", MechanismKind.TREATY_BODY, "ICPPED"),
    MechanismInfo("SP", "Special Procedures of the Human Rights Council", MechanismKind.SPECIAL_PROCEDURE),
    # Regional bodies whose recommendations NMRFs commonly track alongside the UN's.
    MechanismInfo("ACHPR", "African Commission on Human and Peoples' Rights", MechanismKind.REGIONAL, "ACHPR Charter"),
    MechanismInfo(
        "ACERWC", "African Committee of Experts on the Rights and Welfare of the Child", MechanismKind.REGIONAL, "ACRWC"
    ),
    MechanismInfo("IACHR", "Inter-American Commission on Human Rights", MechanismKind.REGIONAL, "ACHR"),
    MechanismInfo("ECSR", "European Committee of Social Rights", MechanismKind.REGIONAL, "European Social Charter"),
    MechanismInfo(
        "CPT", "European Committee for the Prevention of Torture", MechanismKind.REGIONAL, "ECPT"
    ),
    MechanismInfo("GREVIO", "Group of Experts on Action against Violence against Women", MechanismKind.REGIONAL, "Istanbul Convention"),
    MechanismInfo("ECRI", "European Commission against Racism and Intolerance", MechanismKind.REGIONAL),
)

_KNOWN = {m.code: m for m in MECHANISMS}

# UHRI names special procedure mandates "SR ...", "IE ..." and "WG ...".
_SPECIAL_PROCEDURE_PREFIXES = ("SR ", "SR-", "IE ", "IE-", "WG ", "WG-", "Special Rapporteur", "Independent Expert", "Working Group")


def classify_mechanism(code: str) -> MechanismKind:
    """The kind of a mechanism named by an import, known or not."""
    known = _KNOWN.get(code.upper())
    if known:
        return known.kind
    if code.startswith(_SPECIAL_PROCEDURE_PREFIXES) or code.lower() == "special procedures":
        return MechanismKind.SPECIAL_PROCEDURE
    return MechanismKind.OTHER


def canonical_code(code: str) -> str:
    """``cedaw`` and ``CEDAW`` are one body; special procedure names keep their case."""
    if code.upper() in _KNOWN:
        return code.upper()
    if code.lower() == "special procedures":
        return "SP"
    return code


async def ensure_mechanisms(session: AsyncSession) -> None:
    existing = {m.code: m for m in (await session.scalars(select(Mechanism))).all()}
    for info in MECHANISMS:
        row = existing.get(info.code)
        if row is None:
            session.add(Mechanism(code=info.code, name=info.name, kind=info.kind, treaty=info.treaty))
        elif (row.name, row.kind, row.treaty) != (info.name, info.kind, info.treaty):
            row.name, row.kind, row.treaty = info.name, info.kind, info.treaty
