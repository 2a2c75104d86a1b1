"""Which recommendations a command is about: by id, by theme, by cluster..."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import TagKind
from storage.errors import InvalidValue, NotFound, ids_value
from storage.matching import same_name
from storage.models import Cluster, Mechanism, Recommendation, Tag, recommendation_tags
from storage.recommendation_sources import known_external_ids, with_external_id


def parse_ids(text: str) -> tuple[int, ...]:
    """'3,5,9' or '10-20' or a mix, as `recommendations list` shows ids; in
    the order given, each once."""
    ids: list[int] = []
    for part in text.replace(" ", ",").split(","):
        part = part.strip().lstrip("#")
        if not part:
            continue
        try:
            if "-" in part:
                low, high = (int(x) for x in part.split("-", 1))
                if low > high or high - low > 1_000_000:
                    raise ValueError
                ids.extend(range(low, high + 1))
            else:
                ids.append(int(part))
        except ValueError:
            raise InvalidValue(
                f"expected ids such as '3,5,9' or '10-20', got {part!r}", key="refusal.selection.bad_ids", values={"text": part[:40]}
            ) from None
    if not ids:
        raise InvalidValue("no ids given", key="refusal.selection.no_ids")
    return tuple(dict.fromkeys(ids))


@dataclass(frozen=True)
class Selector:
    ids: tuple[int, ...] = ()
    external_ids: tuple[str, ...] = ()
    theme: str | None = None
    cluster: str | None = None
    # Narrow any of the above, e.g. a theme within one State's UPR recommendations.
    country: str | None = None
    mechanism: str | None = None

    def is_empty(self) -> bool:
        return not (self.ids or self.external_ids or self.theme or self.cluster)


def has_tag(kind: TagKind, value: str) -> ColumnElement[bool]:
    """Recommendations carrying a tag, compared without regard to case."""
    return Recommendation.id.in_(
        select(recommendation_tags.c.recommendation_id)
        .join(Tag, Tag.id == recommendation_tags.c.tag_id)
        .where(Tag.kind == kind, same_name(Tag.value, value))
    )


def conditions(
    *, country: str | None = None, mechanism: str | None = None, theme: str | None = None, cluster: str | None = None
) -> list[ColumnElement[bool]]:
    """The filters that selecting and listing share, as conditions on
    recommendations alone (no joins), so any statement can add them."""
    found: list[ColumnElement[bool]] = []
    if country:
        found.append(same_name(Recommendation.country, country))
    if mechanism:
        found.append(Recommendation.mechanism_id.in_(select(Mechanism.id).where(same_name(Mechanism.code, mechanism))))
    if theme:
        found.append(has_tag(TagKind.THEME, theme))
    if cluster:
        found.append(Recommendation.cluster_id.in_(select(Cluster.id).where(same_name(Cluster.name, cluster))))
    return found


def selection_statement(selector: Selector) -> Select[tuple[int]]:
    if selector.is_empty():
        raise InvalidValue("say which recommendations: give ids, external ids, a theme or a cluster", key="refusal.selection.empty")
    statement = select(Recommendation.id).where(
        *conditions(
            country=selector.country, mechanism=selector.mechanism, theme=selector.theme, cluster=selector.cluster
        )
    )
    if selector.ids:
        statement = statement.where(Recommendation.id.in_(selector.ids))
    if selector.external_ids:
        # Any source's id: a UPR recommendation from UHRI and UPR Info has both.
        statement = statement.where(with_external_id(selector.external_ids))
    return statement.order_by(Recommendation.id)


async def select_ids(session: AsyncSession, selector: Selector) -> list[int]:
    """The ids selected. An id or external id asked for by name must exist:
    a typo should fail loudly, not assign nine recommendations out of ten."""
    if selector.ids:
        known = set((await session.scalars(select(Recommendation.id).where(Recommendation.id.in_(selector.ids)))).all())
        if missing := [w for w in selector.ids if w not in known]:
            raise NotFound(
                f"no recommendation with id {', '.join(map(str, missing))}", key="refusal.selection.unknown_ids", values={"ids": ids_value(missing)}
            )
    if selector.external_ids:
        known_ext = await known_external_ids(session, selector.external_ids)
        if missing := [w for w in selector.external_ids if w not in known_ext]:
            beyond = f" (+{len(missing) - 8})" if len(missing) > 8 else ""
            raise NotFound(
                f"no recommendation with external id {', '.join(missing)}",
                key="refusal.selection.unknown_external_ids", values={"ids": ", ".join(missing[:8]) + beyond},
            )
    ids = list((await session.scalars(selection_statement(selector))).all())
    if not ids:
        raise NotFound("no recommendation matches", key="refusal.selection.no_match")
    return ids
