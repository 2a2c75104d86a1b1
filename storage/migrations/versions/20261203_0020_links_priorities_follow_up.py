"""linked recommendations, the Guide's priority inputs, follow-up selections
(issue 15): groups of recommendations answered as one, their suggestions, an
update's group, what the secretariat says of budget and national priority,
and the paragraphs a committee selected for follow-up

status_updates gains its column by a plain ALTER TABLE ADD COLUMN, never by
batch_alter_table: on SQLite a batch rebuild would drop the append-only
triggers (as 0014's docstring warns for recommendations).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('link_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_groups'))
    )
    op.create_table('link_group_members',
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('added_at', UTCDateTime(), nullable=False),
    sa.Column('added_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['link_groups.id'], name=op.f('fk_link_group_members_group_id_link_groups')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_link_group_members_recommendation_id_recommendations')),
    sa.PrimaryKeyConstraint('recommendation_id', name=op.f('pk_link_group_members'))
    )
    op.create_index(op.f('ix_link_group_members_group_id'), 'link_group_members', ['group_id'], unique=False)
    op.create_table('link_suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_ids', sa.JSON(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('decision', sa.Enum('confirmed', 'dismissed', name='link_decision', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['group_id'], ['link_groups.id'], name=op.f('fk_link_suggestions_group_id_link_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_suggestions'))
    )
    op.create_table('priority_inputs',
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('budget_implications', sa.Enum('none', 'some', name='budget_implications', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('national_priority', sa.Boolean(), nullable=True),
    sa.Column('override', sa.Enum('high', 'medium', 'low', name='priority_override', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_priority_inputs_recommendation_id_recommendations')),
    sa.PrimaryKeyConstraint('recommendation_id', name=op.f('pk_priority_inputs'))
    )
    op.create_table('follow_up_selections',
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('import', 'secretariat', name='follow_up_source', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('selected_at', UTCDateTime(), nullable=False),
    sa.Column('selected_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_follow_up_selections_recommendation_id_recommendations')),
    sa.PrimaryKeyConstraint('recommendation_id', name=op.f('pk_follow_up_selections'))
    )
    # A plain ADD COLUMN (see the docstring). SQLite takes the REFERENCES
    # clause inline, which is all it can do for a new column's foreign key.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE status_updates ADD COLUMN link_group_id INTEGER '
                   'CONSTRAINT fk_status_updates_link_group_id_link_groups REFERENCES link_groups (id)')
    else:
        op.add_column('status_updates', sa.Column('link_group_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_status_updates_link_group_id_link_groups'), 'status_updates',
                              'link_groups', ['link_group_id'], ['id'])
    op.create_index(op.f('ix_status_updates_link_group_id'), 'status_updates', ['link_group_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_status_updates_link_group_id'), table_name='status_updates')
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite 3.35+ drops a column in place, keeping the table's triggers;
        # it refuses while a foreign key constraint names the column, so the
        # column was made with its REFERENCES inline and goes with it.
        op.execute('ALTER TABLE status_updates DROP COLUMN link_group_id')
    else:
        op.drop_constraint(op.f('fk_status_updates_link_group_id_link_groups'), 'status_updates', type_='foreignkey')
        op.drop_column('status_updates', 'link_group_id')
    op.drop_table('follow_up_selections')
    op.drop_table('priority_inputs')
    op.drop_table('link_suggestions')
    op.drop_index(op.f('ix_link_group_members_group_id'), table_name='link_group_members')
    op.drop_table('link_group_members')
    op.drop_table('link_groups')
