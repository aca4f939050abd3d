"""Messages from hospital information systems (issue 13): HL7 v2, FHIR, insurance XML.

Revision ID: 0013
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "his_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("error_code", sa.String(length=60), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.Column("received_count", sa.Integer(), nullable=False),
        sa.Column("first_received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishments.id"],
            name=op.f("fk_his_messages_establishment_id_establishments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_his_messages")),
        sa.UniqueConstraint(
            "establishment_id", "channel", "key", name=op.f("uq_his_messages_establishment_id_channel_key")
        ),
    )
    with op.batch_alter_table("his_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_his_messages_channel_last", ["establishment_id", "channel", "last_received_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("his_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_his_messages_channel_last")
    op.drop_table("his_messages")
