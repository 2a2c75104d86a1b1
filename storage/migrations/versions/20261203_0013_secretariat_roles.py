"""secretariat roles (issue 14): each secretariat user is an admin, a
coordinator or a viewer. Users from before roles had every right and become
admins.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('secretariat_users') as batch:
        batch.add_column(sa.Column('role', sa.String(length=32), nullable=False, server_default='admin'))
        batch.create_check_constraint(op.f('ck_secretariat_users_secretariat_role'), "role IN ('viewer', 'coordinator', 'admin')")
    # The default served only the existing rows: a new user's role is always given.
    with op.batch_alter_table('secretariat_users') as batch:
        batch.alter_column('role', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('secretariat_users') as batch:
        batch.drop_constraint(op.f('ck_secretariat_users_secretariat_role'), type_='check')
        batch.drop_column('role')
