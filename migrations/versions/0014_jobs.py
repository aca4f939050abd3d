"""Jobs (issue 14): the job ledger, report files in the database, deadline reminders, Web Push subscriptions,
the purge ledger (append-only), and each establishment's reminder times and address.

Revision ID: 0014
Revises: 0016
"""

from alembic import op
import sqlalchemy as sa

revision = "0014"
down_revision = "0016"
branch_labels = None
depends_on = None

UTC_DT = sa.DateTime(timezone=True)
HISTORY = ("stay_events", "access_log")


def upgrade():
    with op.batch_alter_table("establishments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminder_times", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("reminder_email", sa.String(length=254), nullable=True))

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=True),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", UTC_DT, nullable=False),
        sa.Column("lease_until", UTC_DT, nullable=True),
        sa.Column("worker", sa.String(length=80), nullable=True),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.Column("finished_at", UTC_DT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("key", name=op.f("uq_jobs_key")),
    )
    op.create_index("ix_jobs_state_run_after", "jobs", ["state", "run_after"], unique=False)
    op.create_index(op.f("ix_jobs_finished_at"), "jobs", ["finished_at"], unique=False)

    op.create_table(
        "police_report_chunks",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["police_report_jobs.id"], name=op.f("fk_police_report_chunks_job_id_police_report_jobs")
        ),
        sa.PrimaryKeyConstraint("job_id", "seq", name=op.f("pk_police_report_chunks")),
    )

    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=1000), nullable=False),
        sa.Column("p256dh", sa.String(length=200), nullable=False),
        sa.Column("auth", sa.String(length=100), nullable=False),
        sa.Column("device", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_push_subscriptions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("endpoint", name=op.f("uq_push_subscriptions_endpoint")),
    )
    op.create_index(op.f("ix_push_subscriptions_user_id"), "push_subscriptions", ["user_id"], unique=False)

    op.create_table(
        "reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("slot_at", UTC_DT, nullable=False),
        sa.Column("deadline_at", UTC_DT, nullable=True),
        sa.Column("guests", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_DT, nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"], ["establishments.id"], name=op.f("fk_reminders_establishment_id_establishments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
        sa.UniqueConstraint("establishment_id", "slot_at", name=op.f("uq_reminders_establishment_id_slot_at")),
    )
    op.create_index(op.f("ix_reminders_slot_at"), "reminders", ["slot_at"], unique=False)

    op.create_table(
        "reminder_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reminder_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=254), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.Column("sent_at", UTC_DT, nullable=True),
        sa.ForeignKeyConstraint(
            ["reminder_id"], ["reminders.id"], name=op.f("fk_reminder_deliveries_reminder_id_reminders")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["push_subscriptions.id"],
            name=op.f("fk_reminder_deliveries_subscription_id_push_subscriptions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_deliveries")),
    )
    op.create_index(op.f("ix_reminder_deliveries_reminder_id"), "reminder_deliveries", ["reminder_id"], unique=False)

    op.create_table(
        "purge_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=60), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("cutoff", UTC_DT, nullable=False),
        sa.Column("ran_at", UTC_DT, nullable=False),
        sa.Column("anchor", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_ledger")),
    )
    # While the purge's transaction holds a row here (SQLite) or sets asm.purge (PostgreSQL), the history's
    # triggers let a DELETE through; UPDATE and TRUNCATE stay refused. On PostgreSQL the app role also lacks the
    # DELETE privilege on those tables (asm/pgroles.py): only a purge connection with it can remove old rows.
    op.create_table(
        "purge_mode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purge_mode")),
    )
    for table in HISTORY:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(
                f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ BEGIN "
                "IF TG_OP = 'DELETE' AND current_setting('asm.purge', true) = 'on' THEN RETURN OLD; END IF; "
                f"RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql"
            )
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                "WHEN NOT EXISTS (SELECT 1 FROM purge_mode) "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    # The purge ledger is append-only for everyone, as the history it accounts for.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION purge_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'purge_ledger is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER purge_ledger_no_change BEFORE UPDATE OR DELETE ON purge_ledger "
            "FOR EACH ROW EXECUTE FUNCTION purge_ledger_append_only()"
        )
        op.execute(
            "CREATE TRIGGER purge_ledger_no_truncate BEFORE TRUNCATE ON purge_ledger "
            "FOR EACH STATEMENT EXECUTE FUNCTION purge_ledger_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER purge_ledger_no_{event.lower()} BEFORE {event} ON purge_ledger "
                "BEGIN SELECT RAISE(ABORT, 'purge_ledger is append-only'); END"
            )


def downgrade():
    for table in HISTORY:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(
                f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
                f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$ LANGUAGE plpgsql"
            )
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    op.drop_table("purge_mode")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE purge_ledger")
        op.execute("DROP FUNCTION purge_ledger_append_only()")
    else:
        op.drop_table("purge_ledger")
    op.drop_index(op.f("ix_reminder_deliveries_reminder_id"), table_name="reminder_deliveries")
    op.drop_table("reminder_deliveries")
    op.drop_index(op.f("ix_reminders_slot_at"), table_name="reminders")
    op.drop_table("reminders")
    op.drop_index(op.f("ix_push_subscriptions_user_id"), table_name="push_subscriptions")
    op.drop_table("push_subscriptions")
    op.drop_table("police_report_chunks")
    op.drop_index(op.f("ix_jobs_finished_at"), table_name="jobs")
    op.drop_index("ix_jobs_state_run_after", table_name="jobs")
    op.drop_table("jobs")
    with op.batch_alter_table("establishments", schema=None) as batch_op:
        batch_op.drop_column("reminder_email")
        batch_op.drop_column("reminder_times")
