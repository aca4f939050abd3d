"""people.search_key: the folded name every name search compares with (issue 10.5).

Lower case, no diacritics, Đ/đ → d, spaces collapsed (`asm.text.search_key`), so that "dinh xuan hoang",
"ĐINH XUÂN HOÀNG" and "Đinh Xuân Hoàng" find the same person on SQLite and PostgreSQL alike, through an index,
without a function applied to every row at read time. Existing rows are backfilled here; every writer stores it
from now on. The index on `full_name` goes: no read could use it (searches compared `lower(full_name)`), and each
index is a cost on every filing.

Revision ID: 0008
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from asm.text import search_key  # the same function the writers call: a key computed otherwise would not match

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

CHUNK = 1000


def upgrade():
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_key", sa.String(length=255), nullable=True))
    bind = op.get_bind()
    people = sa.table("people", sa.column("id", sa.Integer), sa.column("full_name"), sa.column("search_key"))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(people.c.id, people.c.full_name).where(people.c.id > last).order_by(people.c.id).limit(CHUNK)
        ).all()
        if not rows:
            break
        bind.execute(
            people.update().where(people.c.id == sa.bindparam("pid")).values(search_key=sa.bindparam("key")),
            [{"pid": row.id, "key": search_key(row.full_name)} for row in rows],
        )
        last = rows[-1].id
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.alter_column("search_key", existing_type=sa.String(length=255), nullable=False)
        batch_op.create_index(batch_op.f("ix_people_search_key"), ["search_key"], unique=False)
        batch_op.drop_index(batch_op.f("ix_people_full_name"))


def downgrade():
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_full_name"), ["full_name"], unique=False)
        batch_op.drop_index(batch_op.f("ix_people_search_key"))
        batch_op.drop_column("search_key")
