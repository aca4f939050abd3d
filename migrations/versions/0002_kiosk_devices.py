"""Kiosk devices (issue 3).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kiosk_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("flows", sa.JSON(), nullable=False),
        sa.Column("guest_picks_room", sa.Boolean(), nullable=False),
        sa.Column("idle_seconds", sa.Integer(), nullable=False),
        sa.Column("pairing_hash", sa.String(length=64), nullable=True),
        sa.Column("pairing_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("credential_hash", sa.String(length=64), nullable=True),
        sa.Column("paired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pin_hash", sa.String(length=255), nullable=False),
        sa.Column("pin_failures", sa.Integer(), nullable=False),
        sa.Column("pin_locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_kiosk_devices_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishments.id"],
            name=op.f("fk_kiosk_devices_establishment_id_establishments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_devices")),
        sa.UniqueConstraint("credential_hash", name=op.f("uq_kiosk_devices_credential_hash")),
        sa.UniqueConstraint("pairing_hash", name=op.f("uq_kiosk_devices_pairing_hash")),
    )
    with op.batch_alter_table("kiosk_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kiosk_devices_establishment_id"), ["establishment_id"], unique=False)


def downgrade():
    with op.batch_alter_table("kiosk_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kiosk_devices_establishment_id"))
    op.drop_table("kiosk_devices")
