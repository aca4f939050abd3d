"""Police watch list, alerts, report jobs, and the stays indexes of the police dashboard (issue 5).

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "watch_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doc_number", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_by_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["commune_code"], ["communes.code"], name=op.f("fk_watch_entries_commune_code_communes")
        ),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_watch_entries_created_by_id_users")),
        sa.ForeignKeyConstraint(["ended_by_id"], ["users.id"], name=op.f("fk_watch_entries_ended_by_id_users")),
        sa.ForeignKeyConstraint(
            ["province_code"], ["provinces.code"], name=op.f("fk_watch_entries_province_code_provinces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_entries")),
    )
    with op.batch_alter_table("watch_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watch_entries_commune_code"), ["commune_code"], unique=False)
        batch_op.create_index("ix_watch_entries_doc_number_active", ["doc_number", "active"], unique=False)
        batch_op.create_index(batch_op.f("ix_watch_entries_province_code"), ["province_code"], unique=False)

    op.create_table(
        "police_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watch_entry_id", sa.Integer(), nullable=False),
        sa.Column("stay_id", sa.Integer(), nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("close_note", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["closed_by_id"], ["users.id"], name=op.f("fk_police_alerts_closed_by_id_users")),
        sa.ForeignKeyConstraint(
            ["commune_code"], ["communes.code"], name=op.f("fk_police_alerts_commune_code_communes")
        ),
        sa.ForeignKeyConstraint(["seen_by_id"], ["users.id"], name=op.f("fk_police_alerts_seen_by_id_users")),
        sa.ForeignKeyConstraint(["stay_id"], ["stays.id"], name=op.f("fk_police_alerts_stay_id_stays")),
        sa.ForeignKeyConstraint(
            ["watch_entry_id"], ["watch_entries.id"], name=op.f("fk_police_alerts_watch_entry_id_watch_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_police_alerts")),
        sa.UniqueConstraint("watch_entry_id", "stay_id", name=op.f("uq_police_alerts_watch_entry_id_stay_id")),
    )
    with op.batch_alter_table("police_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_police_alerts_commune_state", ["commune_code", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_police_alerts_stay_id"), ["stay_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_police_alerts_watch_entry_id"), ["watch_entry_id"], unique=False)

    op.create_table(
        "police_report_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("fmt", sa.String(length=4), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_police_report_jobs_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_police_report_jobs")),
    )
    with op.batch_alter_table("police_report_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_police_report_jobs_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("stays", schema=None) as batch_op:
        batch_op.create_index("ix_stays_establishment_departed", ["establishment_id", "departed_at"], unique=False)
        batch_op.create_index("ix_stays_establishment_filed", ["establishment_id", "filed_at"], unique=False)
        batch_op.create_index(
            "ix_stays_police_arrivals",
            ["establishment_id", "arrived_at"],
            unique=False,
            postgresql_include=["status", "filed_at", "deadline_at"],
        )


def downgrade():
    with op.batch_alter_table("stays", schema=None) as batch_op:
        batch_op.drop_index("ix_stays_police_arrivals")
        batch_op.drop_index("ix_stays_establishment_filed")
        batch_op.drop_index("ix_stays_establishment_departed")

    with op.batch_alter_table("police_report_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_police_report_jobs_user_id"))
    op.drop_table("police_report_jobs")

    with op.batch_alter_table("police_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_police_alerts_watch_entry_id"))
        batch_op.drop_index(batch_op.f("ix_police_alerts_stay_id"))
        batch_op.drop_index("ix_police_alerts_commune_state")
    op.drop_table("police_alerts")

    with op.batch_alter_table("watch_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watch_entries_province_code"))
        batch_op.drop_index("ix_watch_entries_doc_number_active")
        batch_op.drop_index(batch_op.f("ix_watch_entries_commune_code"))
    op.drop_table("watch_entries")
