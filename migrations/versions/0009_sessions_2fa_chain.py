"""Server-side sessions, TOTP second factor and recovery codes, and the hash-chained access log (issue 11).

- `user_sessions`: one row per login; the cookie holds a random key whose SHA-256 is `key_hash`.
- `recovery_codes`: SHA-256 of one-time codes for a lost authenticator.
- `users`: `password_changed_at`, `totp_secret`, `totp_enabled_at`, `totp_last_step`.
- `access_log`: `user_id` may be empty (a failed login with an unknown name); each row carries `prev_hash` and
  `row_hash` (asm/audit). Rows already stored are sealed here, in id order, so the chain covers them too; the
  append-only triggers are set aside for that update only (PostgreSQL: disabled and enabled again inside this
  transaction; SQLite: dropped and created again, as the table is rebuilt for the new NOT NULL columns anyway).

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa

from asm.audit.chain import chain_hash
from asm.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FIELDS = ("at", "user_id", "action", "target", "reason", "ip")
SQLITE_VERBS = ("update", "delete")


def _access_log(*extra):
    return sa.Table(
        "access_log",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime),
        sa.Column("user_id", sa.Integer),
        sa.Column("action", sa.String(40)),
        sa.Column("target", sa.String(120)),
        sa.Column("reason", sa.String(255)),
        sa.Column("ip", sa.String(45)),
        *extra,
    )


def _sqlite_triggers(create):
    for verb in SQLITE_VERBS:
        if create:
            op.execute(
                f"CREATE TRIGGER access_log_no_{verb} BEFORE {verb.upper()} ON access_log "
                "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END"
            )
        else:
            op.execute(f"DROP TRIGGER IF EXISTS access_log_no_{verb}")


def upgrade():
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))

    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_user_sessions_key_hash")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)

    # The access log: the chain columns, filled for the rows already there, then required.
    if pg:
        op.add_column("access_log", sa.Column("prev_hash", sa.String(length=64), nullable=True))
        op.add_column("access_log", sa.Column("row_hash", sa.String(length=64), nullable=True))
        op.execute("ALTER TABLE access_log DISABLE TRIGGER access_log_append_only")
    else:
        _sqlite_triggers(create=False)
        with op.batch_alter_table("access_log", schema=None) as batch_op:
            batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    log = _access_log(sa.Column("prev_hash", sa.String(64)), sa.Column("row_hash", sa.String(64)))
    prev = None
    for row in bind.execute(sa.select(log).order_by(log.c.id)).mappings().all():
        row_hash = chain_hash(prev, {name: row[name] for name in FIELDS})
        bind.execute(
            log.update().where(log.c.id == row["id"]).values(prev_hash=prev or "0" * 64, row_hash=row_hash)
        )
        prev = row_hash
    if pg:
        op.execute("ALTER TABLE access_log ENABLE TRIGGER access_log_append_only")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
    if not pg:
        _sqlite_triggers(create=True)


def downgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    # Lines without a user (failed logins with an unknown name) cannot stay under the old NOT NULL.
    if pg:
        op.execute("ALTER TABLE access_log DISABLE TRIGGER access_log_append_only")
        op.execute("DELETE FROM access_log WHERE user_id IS NULL")
        op.execute("ALTER TABLE access_log ENABLE TRIGGER access_log_append_only")
    else:
        _sqlite_triggers(create=False)
        op.execute("DELETE FROM access_log WHERE user_id IS NULL")
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
    if not pg:
        _sqlite_triggers(create=True)

    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))
    op.drop_table("recovery_codes")
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
    op.drop_table("user_sessions")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret")
        batch_op.drop_column("password_changed_at")
