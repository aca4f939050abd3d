"""Hospital wards, beds and carers (issue 4).

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "wards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishments.id"],
            name=op.f("fk_wards_establishment_id_establishments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wards")),
        sa.UniqueConstraint("establishment_id", "code", name=op.f("uq_wards_establishment_id_code")),
    )
    with op.batch_alter_table("wards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wards_establishment_id"), ["establishment_id"], unique=False)

    op.create_table(
        "beds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("ward_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishments.id"],
            name=op.f("fk_beds_establishment_id_establishments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_beds_room_id_rooms"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ward_id"], ["wards.id"], name=op.f("fk_beds_ward_id_wards"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_beds")),
        sa.UniqueConstraint("establishment_id", "label", name=op.f("uq_beds_establishment_id_label")),
    )
    with op.batch_alter_table("beds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_beds_establishment_id"), ["establishment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_beds_room_id"), ["room_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_beds_ward_id"), ["ward_id"], unique=False)

    op.create_table(
        "bed_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stay_id", sa.Integer(), nullable=False),
        sa.Column("bed_id", sa.Integer(), nullable=False),
        sa.Column("ward_id", sa.Integer(), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["bed_id"], ["beds.id"], name=op.f("fk_bed_assignments_bed_id_beds")),
        sa.ForeignKeyConstraint(["stay_id"], ["stays.id"], name=op.f("fk_bed_assignments_stay_id_stays")),
        sa.ForeignKeyConstraint(["ward_id"], ["wards.id"], name=op.f("fk_bed_assignments_ward_id_wards")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bed_assignments")),
    )
    with op.batch_alter_table("bed_assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bed_assignments_bed_id"), ["bed_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bed_assignments_stay_id"), ["stay_id"], unique=False)
        batch_op.create_index("ix_bed_assignments_ward_period", ["ward_id", "start_at"], unique=False)

    op.create_table(
        "carers",
        sa.Column("stay_id", sa.Integer(), nullable=False),
        sa.Column("patient_stay_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=40), nullable=False),
        sa.Column("card_token", sa.String(length=43), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_stay_id"], ["stays.id"], name=op.f("fk_carers_patient_stay_id_stays")
        ),
        sa.ForeignKeyConstraint(["stay_id"], ["stays.id"], name=op.f("fk_carers_stay_id_stays")),
        sa.PrimaryKeyConstraint("stay_id", name=op.f("pk_carers")),
        sa.UniqueConstraint("card_token", name=op.f("uq_carers_card_token")),
    )
    with op.batch_alter_table("carers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_carers_patient_stay_id"), ["patient_stay_id"], unique=False)

    op.create_table(
        "hospital_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("establishment_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("admission_id", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stay_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["establishment_id"],
            ["establishments.id"],
            name=op.f("fk_hospital_events_establishment_id_establishments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["stay_id"], ["stays.id"], name=op.f("fk_hospital_events_stay_id_stays")),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_hospital_events_token_id_api_tokens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hospital_events")),
        sa.UniqueConstraint(
            "establishment_id", "event_id", name=op.f("uq_hospital_events_establishment_id_event_id")
        ),
    )
    with op.batch_alter_table("hospital_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hospital_events_admission", ["establishment_id", "admission_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_hospital_events_stay_id"), ["stay_id"], unique=False)

    # Columns on filled tables: NOT NULL with a server default, added in place (no table rebuild on SQLite,
    # which would drop the partial unique index of open stays).
    op.add_column("stays", sa.Column("role", sa.String(length=10), server_default="guest", nullable=False))
    op.add_column("establishments", sa.Column("max_carers", sa.Integer(), server_default="2", nullable=False))
    op.add_column(
        "establishments", sa.Column("notify_carers", sa.Boolean(), server_default=sa.true(), nullable=False)
    )


def downgrade():
    # SQLite >= 3.35 drops a column in place; a batch rebuild of `stays` would lose its partial index.
    op.drop_column("establishments", "notify_carers")
    op.drop_column("establishments", "max_carers")
    op.drop_column("stays", "role")

    with op.batch_alter_table("hospital_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hospital_events_stay_id"))
        batch_op.drop_index("ix_hospital_events_admission")
    op.drop_table("hospital_events")
    with op.batch_alter_table("carers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carers_patient_stay_id"))
    op.drop_table("carers")
    with op.batch_alter_table("bed_assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_bed_assignments_ward_period")
        batch_op.drop_index(batch_op.f("ix_bed_assignments_stay_id"))
        batch_op.drop_index(batch_op.f("ix_bed_assignments_bed_id"))
    op.drop_table("bed_assignments")
    with op.batch_alter_table("beds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_beds_ward_id"))
        batch_op.drop_index(batch_op.f("ix_beds_room_id"))
        batch_op.drop_index(batch_op.f("ix_beds_establishment_id"))
    op.drop_table("beds")
    with op.batch_alter_table("wards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wards_establishment_id"))
    op.drop_table("wards")
