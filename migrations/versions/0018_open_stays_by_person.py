"""The index of open stays leads with the person: `uq_stays_open_person` becomes (person_id, establishment_id).

The same rule (one open stay per person per establishment), the same name. Every filing reads a guest's open stays
at other establishments (the "in house elsewhere" warning) by the person's id: with the person first, this small
partial index answers that read, and the planner has no cheaper-looking way to walk every open stay of the
country, whatever its statistics say. Statistics taken before the day's arrivals (a new database, a table not
analysed since) once made the one-statement filing do just that: 14-21 ms a filing instead of 0.5 ms at 1.8 million
stays (asm/filing/sql.py now names the person's id; docs/PERFORMANCE.md, "Retention purge while the API files").
Lookups by establishment and person still use both columns; by establishment alone, ix_stays_establishment_status.

The index covers open stays only (guests in house and drafts): building it reads the table once and writes a
small index.

Revision ID: 0018
Revises: 0017
"""

from alembic import op
import sqlalchemy as sa

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('draft', 'in_house')")


def _swap(columns):
    with op.batch_alter_table("stays", schema=None) as batch_op:
        batch_op.drop_index("uq_stays_open_person", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index(
            "uq_stays_open_person", columns, unique=True, sqlite_where=OPEN, postgresql_where=OPEN
        )


def upgrade():
    _swap(["person_id", "establishment_id"])


def downgrade():
    _swap(["establishment_id", "person_id"])
