"""Foreign guests (issue 12): their stays' declaration details and deadline, and remote communes.

`foreign_stays`: one row per stay of a foreign national (entry, visa, passport expiry; the temporary-residence
declaration's deadline, time and reference). `communes.remote`: the 24-hour declaration deadline applies.

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remote", sa.Boolean(), server_default=sa.false(), nullable=False))

    op.create_table(
        "foreign_stays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stay_id", sa.Integer(), nullable=False),
        sa.Column("passport_expiry", sa.Date(), nullable=True),
        sa.Column("visa_type", sa.String(length=20), nullable=True),
        sa.Column("visa_number", sa.String(length=30), nullable=True),
        sa.Column("entry_date", sa.Date(), nullable=True),
        sa.Column("entry_port", sa.String(length=80), nullable=True),
        sa.Column("entry_purpose", sa.String(length=100), nullable=True),
        sa.Column("deadline_hours", sa.Integer(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declaration_ref", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(["stay_id"], ["stays.id"], name=op.f("fk_foreign_stays_stay_id_stays")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_foreign_stays")),
        sa.UniqueConstraint("stay_id", name=op.f("uq_foreign_stays_stay_id")),
    )
    with op.batch_alter_table("foreign_stays", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_foreign_stays_deadline_at"), ["deadline_at"], unique=False)


def downgrade():
    with op.batch_alter_table("foreign_stays", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_foreign_stays_deadline_at"))
    op.drop_table("foreign_stays")
    with op.batch_alter_table("communes", schema=None) as batch_op:
        batch_op.drop_column("remote")
