"""The append-only tables refuse TRUNCATE too (PostgreSQL).

0001's row triggers refuse UPDATE and DELETE on `stay_events` and `access_log`; TRUNCATE fires no row trigger, so
it could still empty them. A statement trigger closes that. A TRUNCATE of `stays` with CASCADE reaches
`stay_events` and is refused as well. SQLite has no TRUNCATE: its `DELETE FROM` is refused by 0001's triggers.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

APPEND_ONLY = ("stay_events", "access_log")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
