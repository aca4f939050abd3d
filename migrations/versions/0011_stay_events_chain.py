"""The stay history is hash-chained, one chain per stay (issue 11): `stay_events.prev_hash` and `row_hash`.

Each event carries the hash of the stay's previous event (the first links to 64 zeros) and its own, over its
fields in the canonical form of asm/audit/chain.py; `flask audit verify` walks every stay's chain. A chain per
stay, not one for the table: filings of different stays never wait for each other, and a stay's whole history
can leave together when its retention ends. The events already stored are sealed here, stay by stay, in id order.

Revision ID: 0011
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa

from asm.audit.chain import GENESIS, chain_hash
from asm.types import UTCDateTime

revision = "0011"
down_revision = "0013"
branch_labels = None
depends_on = None

FIELDS = ("stay_id", "kind", "at", "actor", "user_id", "token_id", "receipt_no", "data")
SQLITE_VERBS = ("update", "delete")


def _events(*extra):
    return sa.Table(
        "stay_events",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("stay_id", sa.Integer),
        sa.Column("kind", sa.String(20)),
        sa.Column("at", UTCDateTime),
        sa.Column("actor", sa.String(120)),
        sa.Column("user_id", sa.Integer),
        sa.Column("token_id", sa.Integer),
        sa.Column("receipt_no", sa.String(40)),
        sa.Column("data", sa.JSON),
        *extra,
    )


def _sqlite_triggers(create):
    for verb in SQLITE_VERBS:
        if create:
            op.execute(
                f"CREATE TRIGGER stay_events_no_{verb} BEFORE {verb.upper()} ON stay_events "
                "BEGIN SELECT RAISE(ABORT, 'stay_events is append-only'); END"
            )
        else:
            op.execute(f"DROP TRIGGER IF EXISTS stay_events_no_{verb}")


def _unlocked(pg):
    if pg:
        op.execute("ALTER TABLE stay_events DISABLE TRIGGER stay_events_append_only")
    else:
        _sqlite_triggers(create=False)


def _locked(pg):
    if pg:
        op.execute("ALTER TABLE stay_events ENABLE TRIGGER stay_events_append_only")
    else:
        _sqlite_triggers(create=True)


def upgrade():
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    _unlocked(pg)
    with op.batch_alter_table("stay_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("row_hash", sa.String(length=64), nullable=True))
    events = _events(sa.Column("prev_hash", sa.String(64)), sa.Column("row_hash", sa.String(64)))
    heads = {}
    rows = bind.execute(sa.select(events).order_by(events.c.stay_id, events.c.id)).mappings()
    for row in rows.all():
        prev = heads.get(row["stay_id"], GENESIS)
        row_hash = chain_hash(prev, {name: row[name] for name in FIELDS})
        bind.execute(events.update().where(events.c.id == row["id"]).values(prev_hash=prev, row_hash=row_hash))
        heads[row["stay_id"]] = row_hash
    with op.batch_alter_table("stay_events", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=False)
    _locked(pg)


def downgrade():
    pg = op.get_bind().dialect.name == "postgresql"
    _unlocked(pg)
    with op.batch_alter_table("stay_events", schema=None) as batch_op:
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
    _locked(pg)
