"""Drop ix_stays_establishment_arrived: ix_stays_police_arrivals (0004) has the same leading columns.

Every filing writes each index of `stays`; this one answered nothing the covering index does not
(docs/PERFORMANCE.md, the API benchmark).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("stays", schema=None) as batch_op:
        batch_op.drop_index("ix_stays_establishment_arrived")


def downgrade():
    with op.batch_alter_table("stays", schema=None) as batch_op:
        batch_op.create_index("ix_stays_establishment_arrived", ["establishment_id", "arrived_at"], unique=False)
