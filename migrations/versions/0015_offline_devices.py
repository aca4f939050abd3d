"""Offline devices (issue 15): the kiosk's offline PIN material, and why a stay was filed late.

`kiosk_devices.pin_offline`: the staff PIN's PBKDF2 (salt, iterations, the device's verifier and the server's
approval key), made when the PIN is set or next checked online. `stays.filed_late_reason`: "outage" when a device
kept the filing while the server was out of reach and it arrived past its deadline.

Revision ID: 0015
Revises: 0012
"""

from alembic import op
import sqlalchemy as sa

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("kiosk_devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pin_offline", sa.JSON(), nullable=True))
    with op.batch_alter_table("stays", schema=None) as batch_op:
        batch_op.add_column(sa.Column("filed_late_reason", sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table("stays", schema=None) as batch_op:
        batch_op.drop_column("filed_late_reason")
    with op.batch_alter_table("kiosk_devices", schema=None) as batch_op:
        batch_op.drop_column("pin_offline")
