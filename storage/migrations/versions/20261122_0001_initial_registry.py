"""initial registry: recommendations, network, deadlines, append-only history

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 10:46:52.701822
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# History tables refuse UPDATE and DELETE in the database itself, so no code
# path, present or future, can rewrite what a focal point reported.
APPEND_ONLY_TABLES = ("status_updates", "evidence", "audit_log")


def _create_append_only_triggers() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION nmrf_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
            END
            $$
            """
        )
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION nmrf_refuse_change()"
            )
    else:
        for table in APPEND_ONLY_TABLES:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def _drop_append_only_triggers() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS nmrf_refuse_change()")
    else:
        for table in APPEND_ONLY_TABLES:
            for verb in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('clusters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('priority', sa.Enum('high', 'medium', 'low', name='priority', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clusters')),
    sa.UniqueConstraint('name', name=op.f('uq_clusters_name'))
    )
    op.create_table('import_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('uhri', 'uprinfo', 'template', name='import_source', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('file_name', sa.String(length=500), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_runs'))
    )
    op.create_table('institutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.Enum('ministry', 'agency', 'parliament', 'judiciary', 'statistics_office', 'nhri', 'local_government', 'other', name='institution_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['institutions.id'], name=op.f('fk_institutions_parent_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institutions')),
    sa.UniqueConstraint('code', name=op.f('uq_institutions_code'))
    )
    op.create_table('mechanisms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.Enum('upr', 'treaty_body', 'special_procedure', 'regional', 'other', name='mechanism_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('treaty', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mechanisms')),
    sa.UniqueConstraint('code', name=op.f('uq_mechanisms_code'))
    )
    op.create_table('secretariat_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_secretariat_users')),
    sa.UniqueConstraint('email', name=op.f('uq_secretariat_users_email'))
    )
    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('theme', 'sdg', 'affected_persons', 'recommending_state', 'country_concerned', 'region_concerned', 'recommending_region', 'recommending_organisation', 'uprinfo_action', name='tag_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('value', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('kind', 'value', name=op.f('uq_tags_kind_value'))
    )
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('symbol', sa.String(length=200), nullable=False),
    sa.Column('mechanism_id', sa.Integer(), nullable=True),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['mechanism_id'], ['mechanisms.id'], name=op.f('fk_documents_mechanism_id_mechanisms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('symbol', name=op.f('uq_documents_symbol'))
    )
    op.create_table('focal_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('technical', 'senior', 'alternate', 'validator', name='focal_point_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('active_from', sa.Date(), nullable=False),
    sa.Column('active_to', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('active_to IS NULL OR active_to >= active_from', name=op.f('ck_focal_points_active_range')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_focal_points_institution_id_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_focal_points')),
    sa.UniqueConstraint('email', name=op.f('uq_focal_points_email'))
    )
    with op.batch_alter_table('focal_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_focal_points_institution_id'), ['institution_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mechanism_id', sa.Integer(), nullable=False),
    sa.Column('country', sa.String(length=200), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=True),
    sa.Column('session', sa.Integer(), nullable=True),
    sa.Column('review_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['mechanism_id'], ['mechanisms.id'], name=op.f('fk_reviews_mechanism_id_mechanisms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('mechanism_id', 'country', 'label', name=op.f('uq_reviews_mechanism_id_country_label'))
    )
    op.create_table('chat_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.Enum('telegram', 'slack', name='platform', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('workspace_id', sa.String(length=64), nullable=False),
    sa.Column('platform_user_id', sa.String(length=64), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=True),
    sa.Column('focal_point_id', sa.Integer(), nullable=True),
    sa.Column('secretariat_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(focal_point_id IS NULL) <> (secretariat_user_id IS NULL)', name=op.f('ck_chat_identities_one_owner')),
    sa.ForeignKeyConstraint(['focal_point_id'], ['focal_points.id'], name=op.f('fk_chat_identities_focal_point_id_focal_points')),
    sa.ForeignKeyConstraint(['secretariat_user_id'], ['secretariat_users.id'], name=op.f('fk_chat_identities_secretariat_user_id_secretariat_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_identities')),
    sa.UniqueConstraint('platform', 'workspace_id', 'platform_user_id', name=op.f('uq_chat_identities_platform_workspace_id_platform_user_id'))
    )
    with op.batch_alter_table('chat_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_identities_focal_point_id'), ['focal_point_id'], unique=False)

    op.create_table('deadlines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('treaty_report', 'list_of_issues_reply', 'follow_up_information', 'upr_midterm', 'upr_national_report', 'internal_input', 'information_request', name='deadline_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('mechanism_id', sa.Integer(), nullable=True),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['mechanism_id'], ['mechanisms.id'], name=op.f('fk_deadlines_mechanism_id_mechanisms')),
    sa.ForeignKeyConstraint(['parent_id'], ['deadlines.id'], name=op.f('fk_deadlines_parent_id_deadlines')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_deadlines_review_id_reviews')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadlines'))
    )
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadlines_due_on'), ['due_on'], unique=False)

    op.create_table('recommendations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('uhri', 'uprinfo', 'template', name='import_source', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('paragraph', sa.String(length=40), nullable=True),
    sa.Column('country', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('recommendation', 'concern_observation', 'voluntary_pledge', name='recommendation_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('mechanism_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.Column('upr_position', sa.Enum('supported', 'noted', name='upr_position', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('follow_up_grade', sa.String(length=8), nullable=True),
    sa.Column('cluster_id', sa.Integer(), nullable=True),
    sa.Column('priority', sa.Enum('high', 'medium', 'low', name='priority', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'], name=op.f('fk_recommendations_cluster_id_clusters')),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_recommendations_document_id_documents')),
    sa.ForeignKeyConstraint(['mechanism_id'], ['mechanisms.id'], name=op.f('fk_recommendations_mechanism_id_mechanisms')),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_recommendations_review_id_reviews')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recommendations')),
    sa.UniqueConstraint('source', 'external_id', name=op.f('uq_recommendations_source_external_id'))
    )
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.create_index('ix_recommendations_cluster_id', ['cluster_id'], unique=False)
        batch_op.create_index('ix_recommendations_country', ['country'], unique=False)
        batch_op.create_index('ix_recommendations_external_id', ['external_id'], unique=False)
        batch_op.create_index('ix_recommendations_mechanism_id', ['mechanism_id'], unique=False)

    op.create_table('assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('lead', 'contributing', name='assignment_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assigned_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_assignments_institution_id_institutions')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_assignments_recommendation_id_recommendations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments')),
    sa.UniqueConstraint('recommendation_id', 'institution_id', name=op.f('uq_assignments_recommendation_id_institution_id'))
    )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.create_index('ix_assignments_institution_id', ['institution_id'], unique=False)
        batch_op.create_index('uq_assignments_one_lead', ['recommendation_id'], unique=True, sqlite_where=sa.text("role = 'lead'"), postgresql_where=sa.text("role = 'lead'"))

    op.create_table('deadline_recommendations',
    sa.Column('deadline_id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['deadline_id'], ['deadlines.id'], name=op.f('fk_deadline_recommendations_deadline_id_deadlines')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_deadline_recommendations_recommendation_id_recommendations')),
    sa.PrimaryKeyConstraint('deadline_id', 'recommendation_id', name=op.f('pk_deadline_recommendations'))
    )
    with op.batch_alter_table('deadline_recommendations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_recommendations_recommendation_id'), ['recommendation_id'], unique=False)

    op.create_table('recommendation_tags',
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_recommendation_tags_recommendation_id_recommendations')),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_recommendation_tags_tag_id_tags')),
    sa.PrimaryKeyConstraint('recommendation_id', 'tag_id', name=op.f('pk_recommendation_tags'))
    )
    with op.batch_alter_table('recommendation_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommendation_tags_tag_id'), ['tag_id'], unique=False)

    op.create_table('status_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recommendation_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('not_started', 'in_progress', 'partially_implemented', 'fully_implemented', 'not_applicable', name='implementation_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=True),
    sa.Column('next_step', sa.Text(), nullable=True),
    sa.Column('next_step_due_on', sa.Date(), nullable=True),
    sa.Column('author_focal_point_id', sa.Integer(), nullable=True),
    sa.Column('author_secretariat_user_id', sa.Integer(), nullable=True),
    sa.Column('author_label', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.Enum('telegram', 'slack', 'cli', 'import', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('NOT (author_focal_point_id IS NOT NULL AND author_secretariat_user_id IS NOT NULL)', name=op.f('ck_status_updates_one_author')),
    sa.ForeignKeyConstraint(['author_focal_point_id'], ['focal_points.id'], name=op.f('fk_status_updates_author_focal_point_id_focal_points')),
    sa.ForeignKeyConstraint(['author_secretariat_user_id'], ['secretariat_users.id'], name=op.f('fk_status_updates_author_secretariat_user_id_secretariat_users')),
    sa.ForeignKeyConstraint(['corrects_id'], ['status_updates.id'], name=op.f('fk_status_updates_corrects_id_status_updates')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_status_updates_institution_id_institutions')),
    sa.ForeignKeyConstraint(['recommendation_id'], ['recommendations.id'], name=op.f('fk_status_updates_recommendation_id_recommendations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_updates')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_status_updates_idempotency_key'))
    )
    with op.batch_alter_table('status_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_status_updates_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index('ix_status_updates_recommendation_id_id', ['recommendation_id', 'id'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status_update_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('link', 'file', name='evidence_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('file_name', sa.String(length=500), nullable=True),
    sa.Column('mime_type', sa.String(length=200), nullable=True),
    sa.Column('size_bytes', sa.BigInteger(), nullable=True),
    sa.Column('platform_file_id', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['status_update_id'], ['status_updates.id'], name=op.f('fk_evidence_status_update_id_status_updates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_status_update_id'), ['status_update_id'], unique=False)

    _create_append_only_triggers()



def downgrade() -> None:
    _drop_append_only_triggers()
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_status_update_id'))

    op.drop_table('evidence')
    with op.batch_alter_table('status_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_status_updates_recommendation_id_id')
        batch_op.drop_index(batch_op.f('ix_status_updates_institution_id'))

    op.drop_table('status_updates')
    with op.batch_alter_table('recommendation_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recommendation_tags_tag_id'))

    op.drop_table('recommendation_tags')
    with op.batch_alter_table('deadline_recommendations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadline_recommendations_recommendation_id'))

    op.drop_table('deadline_recommendations')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_index('uq_assignments_one_lead', sqlite_where=sa.text("role = 'lead'"), postgresql_where=sa.text("role = 'lead'"))
        batch_op.drop_index('ix_assignments_institution_id')

    op.drop_table('assignments')
    with op.batch_alter_table('recommendations', schema=None) as batch_op:
        batch_op.drop_index('ix_recommendations_mechanism_id')
        batch_op.drop_index('ix_recommendations_external_id')
        batch_op.drop_index('ix_recommendations_country')
        batch_op.drop_index('ix_recommendations_cluster_id')

    op.drop_table('recommendations')
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadlines_due_on'))

    op.drop_table('deadlines')
    with op.batch_alter_table('chat_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_identities_focal_point_id'))

    op.drop_table('chat_identities')
    op.drop_table('reviews')
    with op.batch_alter_table('focal_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_focal_points_institution_id'))

    op.drop_table('focal_points')
    op.drop_table('documents')
    op.drop_table('tags')
    op.drop_table('secretariat_users')
    op.drop_table('mechanisms')
    op.drop_table('institutions')
    op.drop_table('import_runs')
    op.drop_table('clusters')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
