"""The secretariat's thematic clusters of recommendations."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.enums import Priority
from storage.errors import Conflict, InvalidValue, NotFound
from storage.matching import same_name
from storage.models import Cluster, Recommendation
from storage.selection import Selector, select_ids


async def add_cluster(
    session: AsyncSession, name: str, description: str | None = None, priority: Priority | None = None
) -> Cluster:
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise InvalidValue("a cluster name is 1 to 200 characters")
    if await session.scalar(select(Cluster.id).where(same_name(Cluster.name, name))):
        raise Conflict(f"a cluster named {name!r} exists already")
    cluster = Cluster(name=name, description=description, priority=priority)
    session.add(cluster)
    await session.flush()
    return cluster


async def get_cluster(session: AsyncSession, name: str) -> Cluster:
    cluster = await session.scalar(select(Cluster).where(same_name(Cluster.name, name.strip())))
    if cluster is None:
        raise NotFound(f"no cluster named {name!r} (see: nmrf-bot clusters list)")
    return cluster


async def put_in_cluster(session: AsyncSession, name: str, selector: Selector) -> int:
    """Move the selected recommendations into a cluster; returns how many moved.

    Loaded as objects, not one UPDATE, so each move is in the audit log.
    """
    cluster = await get_cluster(session, name)
    ids = await select_ids(session, selector)
    moved = 0
    for start in range(0, len(ids), 500):
        for rec in await session.scalars(select(Recommendation).where(Recommendation.id.in_(ids[start : start + 500]))):
            if rec.cluster_id != cluster.id:
                rec.cluster_id = cluster.id
                moved += 1
    await session.flush()
    return moved


async def list_clusters(session: AsyncSession) -> list[tuple[Cluster, int]]:
    counts = (
        select(Recommendation.cluster_id, func.count().label("n")).group_by(Recommendation.cluster_id).subquery()
    )
    rows = await session.execute(
        select(Cluster, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.cluster_id == Cluster.id)
        .order_by(Cluster.name)
    )
    return [(c, n) for c, n in rows]
