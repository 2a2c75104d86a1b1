"""deadlines: a name made from kind, mechanism and country is no longer stored
in English; the title is only what the secretariat typed

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 22:30:00
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The English names revisions up to 0006 stored, as that code made them
# (frozen here: the application's own names may change later).
KIND_TITLES = {
    'treaty_report': 'periodic report',
    'list_of_issues_reply': 'reply to the list of issues',
    'follow_up_information': 'follow-up information',
    'upr_midterm': 'UPR mid-term report',
    'upr_national_report': 'UPR national report',
    'internal_input': 'internal input deadline',
    'information_request': 'information request',
}
REQUEST_PREFIX = 'Request: '
WITH_COUNTRY = re.compile(r'(.*) \(([^()]+)\)')
INPUTS_FOR = re.compile(r'Inputs for the (.*) \(([^()]+)\)')

deadlines = sa.table(
    'deadlines',
    sa.column('id', sa.Integer), sa.column('kind', sa.String), sa.column('title', sa.String),
    sa.column('country', sa.String), sa.column('mechanism_id', sa.Integer), sa.column('parent_id', sa.Integer),
)
mechanisms = sa.table('mechanisms', sa.column('id', sa.Integer), sa.column('code', sa.String))


def made_name(kind: str, mechanism: str | None) -> str:
    title = KIND_TITLES[kind]
    if mechanism is None or title.startswith(mechanism):
        return title[0].upper() + title[1:]
    return f'{mechanism} {title}'


def _rows(bind: sa.Connection) -> list[sa.Row]:
    return list(bind.execute(
        sa.select(deadlines.c.id, deadlines.c.kind, deadlines.c.title, deadlines.c.country, deadlines.c.parent_id, mechanisms.c.code)
        .select_from(deadlines.outerjoin(mechanisms, mechanisms.c.id == deadlines.c.mechanism_id))
    ))


def upgrade() -> None:
    with op.batch_alter_table('deadlines') as batch:
        batch.add_column(sa.Column('country', sa.String(length=200), nullable=True))
        batch.alter_column('title', existing_type=sa.String(length=300), nullable=True)
    bind = op.get_bind()
    for id_, kind, title, _, parent_id, code in _rows(bind):
        values: dict[str, str | None] | None = None
        with_country = WITH_COUNTRY.fullmatch(title)
        if kind == 'information_request' and title.startswith(REQUEST_PREFIX):
            values = {'title': title[len(REQUEST_PREFIX):]}
        elif title == made_name(kind, code):
            values = {'title': None}
        elif with_country and with_country[1] == made_name(kind, code):
            values = {'title': None, 'country': with_country[2]}
        elif kind == 'internal_input' and parent_id is not None and INPUTS_FOR.fullmatch(title):
            values = {'title': None}  # named after the report it serves
        if values is not None:
            bind.execute(deadlines.update().where(deadlines.c.id == id_).values(**values))


def downgrade() -> None:
    bind = op.get_bind()
    rows = {row[0]: row for row in _rows(bind)}

    def name(row: sa.Row) -> str:
        _, kind, title, country, parent_id, code = row
        if title is not None:
            return REQUEST_PREFIX + title if kind == 'information_request' else title
        if kind == 'internal_input' and parent_id in rows:
            parent = rows[parent_id]
            return f'Inputs for the {made_name(parent[1], parent[5])} ({parent[3]})' if parent[3] else f'Inputs for the {name(parent)}'
        return f'{made_name(kind, code)} ({country})' if country else made_name(kind, code)

    for id_, row in rows.items():
        bind.execute(deadlines.update().where(deadlines.c.id == id_).values(title=name(row)[:300]))
    with op.batch_alter_table('deadlines') as batch:
        batch.alter_column('title', existing_type=sa.String(length=300), nullable=False)
        batch.drop_column('country')
