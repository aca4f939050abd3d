"""The set-based writer of a plan (asm/filing/plan.py): a few statements per table, whatever the plan's size.

Every channel writes through here, on SQLite and PostgreSQL: one guest at the desk or a thousand hospital events
alike. The order follows the foreign keys: people, stays (heads before the members of their group), history,
linked rows (bed assignments, carers, hospital events, beds, foreign nationals' declarations), then the police
watch list's alerts for every stay the plan files (asm/police/watch.py holds that rule). Nothing here decides
anything: the rules made the plan. Flushes, never commits; ORM objects the plan changed are expired so that they
read the new values. The statements run on the session's connection, in its transaction, after one flush of what
the session holds (as its first execute would have): the ORM session's own machinery cost ~0.15 ms a statement
more, and a hospital group of eight messages sends about ten (docs/PERFORMANCE.md, MLLP).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, insert, text, update

from asm.audit.chain import GENESIS, chain_hash
from asm.audit.chains import last_hashes, lock_many
from asm.extensions import db
from asm.filing.plan import LinkedRow, Plan, StayRow
from asm.foreigners.models import ForeignStay
from asm.hospital.models import Bed, BedAssignment, Carer, HospitalEvent
from asm.people.models import Person
from asm.police.watch import raise_alerts
from asm.stays.models import STAY_EVENTS_CHAIN, Stay, StayEvent
from asm.text import search_key

LINKED_MODELS: Mapping[str, Any] = {
    "bed_assignments": BedAssignment,
    "carers": Carer,
    "hospital_events": HospitalEvent,
    "beds": Bed,
    "foreign_stays": ForeignStay,  # a foreign national's stay: its declaration (asm/foreigners)
}


def write(plan: Plan, *, orm_stays: Mapping[int, Stay] | None = None) -> None:
    session = db.session
    session.flush()  # what the session holds goes first, as autoflush would have sent it
    run = session.connection().execute
    now = plan.now
    new_people = [p for p in plan.people if p.new and p.id is None]
    new_stays = [s for s in plan.stays if s.new and s.id is None]
    heads = [s for s in new_stays if s.head is None]
    members = [s for s in new_stays if s.head is not None]
    people_ids, stay_ids = draw_ids([(Person, len(new_people)), (Stay, len(new_stays))])
    if new_people:
        rows = [
            {"doc_type": p.key[0], "doc_number": p.key[1], "nationality": p.key[2]}
            | p.values
            | {"search_key": search_key(p.full_name), "created_at": now, "updated_at": now}
            for p in new_people
        ]
        for person, pid in zip(new_people, insert_with_ids(Person, rows, people_ids), strict=True):
            person.id = pid
    changed_people = [p for p in plan.people if not p.new and p.changes]
    for group in grouped(changed_people, lambda p: tuple(sorted(p.changes))):
        update_by_id(Person, [{"id": p.id} | p.changes | key_of_name(p.changes) | {"updated_at": now} for p in group])
        for p in group:
            p.changes = {}
    for batch, ids in ((heads, stay_ids[: len(heads)]), (members, stay_ids[len(heads) :])):
        if batch:  # the heads first: their members' rows name them
            for stay, sid in zip(batch, insert_with_ids(Stay, [stay_row(s) for s in batch], ids), strict=True):
                stay.id = sid
    changed_stays = [s for s in plan.stays if not s.new and s.changed - {"room_name"}]
    for group in grouped(changed_stays, lambda s: tuple(sorted(s.changed))):
        update_by_id(Stay, [stay_changes(s) for s in group])
    if plan.events:
        seal(plan)
        run(insert(StayEvent.__table__), [e.columns() | e.chain for e in plan.events])
    write_linked(plan.linked)
    raise_alerts(plan)
    for s in changed_stays:
        s.changed = set()
    expire(plan, orm_stays or {})


def key_of_name(changes: dict[str, Any]) -> dict[str, Any]:
    """The folded name every name search compares with (asm.text.search_key), written with the name."""
    return {"search_key": search_key(changes["full_name"])} if "full_name" in changes else {}


def stay_changes(stay: StayRow) -> dict[str, Any]:
    values = {name: getattr(stay, name) for name in stay.changed if name != "room_name"}
    if "person_id" in stay.changed and stay.person is not None:  # a person the writer has just inserted
        values["person_id"] = stay.person.id
    return {"id": stay.id} | values


def seal(plan: Plan) -> None:
    """Link each new history line to its stay's chain (asm/audit): a new stay's first line to GENESIS, a stored
    stay's to its last line, read (and, on PostgreSQL, locked) for all the plan's stored stays at once."""
    connection = db.session.connection()
    stored = sorted({e.stay.id for e in plan.events if not e.stay.new and e.stay.id is not None})
    heads: dict[int, str] = {}
    if stored:
        lock_many(connection, STAY_EVENTS_CHAIN, stored)
        heads = last_hashes(connection, STAY_EVENTS_CHAIN, stored)
    for event in plan.events:
        assert event.stay.id is not None
        prev = heads.get(event.stay.id, GENESIS)
        row_hash = chain_hash(prev, STAY_EVENTS_CHAIN.fields_of(event.columns()))
        event.chain = {"prev_hash": prev, "row_hash": row_hash}
        heads[event.stay.id] = row_hash


def stay_row(stay: StayRow) -> dict[str, Any]:
    row = stay.columns()
    del row["id"]
    return row


def write_linked(rows: list[LinkedRow]) -> None:
    """Inserts in the plan's order, a statement per table; then updates, the last value of a row winning."""
    inserts = [r for r in rows if r.id is None]
    run = db.session.connection().execute
    for group in grouped(inserts, lambda r: (r.table, tuple(sorted(r.columns())))):
        run(insert(LINKED_MODELS[group[0].table].__table__), [r.columns() for r in group])
    merged: dict[tuple[str, int], dict[str, Any]] = {}
    for r in rows:
        if r.id is not None:
            merged.setdefault((r.table, r.id), {}).update(r.values)
    updates = [(table, row_id, values) for (table, row_id), values in merged.items()]
    for group in grouped(updates, lambda u: (u[0], tuple(sorted(u[2])))):
        update_by_id(LINKED_MODELS[group[0][0]], [{"id": row_id} | values for _table, row_id, values in group])


def grouped(items: list[Any], key: Any) -> list[list[Any]]:
    """Items with the same key together, groups in the order of their first item (one statement each)."""
    groups: dict[Any, list[Any]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return list(groups.values())


def update_by_id(model: Any, rows: list[dict[str, Any]]) -> None:
    """One UPDATE ... WHERE id = ? sent for many rows (Core, not the ORM's bulk path: a fifth of the cost)."""
    table = model.__table__
    statement = update(table).where(table.c.id == bindparam("row_id"))
    db.session.connection().execute(statement, [{"row_id": row.pop("id")} | row for row in rows])


def draw_ids(wanted: list[tuple[Any, int]]) -> list[list[int]]:
    """PostgreSQL: ids for the new rows of several tables, drawn from their sequences in one round trip (a list per
    table, ascending; empty where none is wanted). Elsewhere empty lists: the INSERT returns the ids."""
    connection = db.session.connection()
    found: list[list[int]] = [[] for _ in wanted]
    parts = [i for i, (_model, n) in enumerate(wanted) if n]
    if connection.dialect.name != "postgresql" or not parts:
        return found
    sql = " UNION ALL ".join(
        f"SELECT {i} AS k, nextval(pg_get_serial_sequence(:t{i}, 'id')) FROM generate_series(1, :n{i})" for i in parts
    )
    params = {f"t{i}": wanted[i][0].__tablename__ for i in parts} | {f"n{i}": wanted[i][1] for i in parts}
    for k, new_id in connection.execute(text(sql), params):
        found[k].append(new_id)
    return [sorted(ids) for ids in found]


def insert_with_ids(model: Any, rows: list[dict[str, Any]], ids: list[int]) -> list[int]:
    """Insert rows and return their new ids, in order. PostgreSQL: the ids were drawn from the table's sequence
    first (`ids`, from `draw_ids`), so the rows go as one pipelined executemany of a short statement (a multi-row
    INSERT ... RETURNING of a thousand rows costs more in the driver's query parsing than in the server);
    elsewhere (`ids` empty) INSERT ... RETURNING."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(insert(model.__table__), [row | {"id": i} for row, i in zip(rows, ids, strict=True)])
        return ids
    table = model.__table__
    return list(connection.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))


def expire(plan: Plan, orm_stays: Mapping[int, Stay]) -> None:
    """ORM objects of rows the plan changed read the database again (the statements above bypass the ORM)."""
    session = db.session
    touched: list[Any] = list(orm_stays.values())
    for person in plan.people:
        if person.id is not None:
            touched.append(session.identity_map.get(session.identity_key(Person, person.id)))
    for stay in plan.stays:
        if stay.id is not None and stay.id not in orm_stays:
            touched.append(session.identity_map.get(session.identity_key(Stay, stay.id)))
    for row in plan.linked:
        if row.id is not None:
            key = session.identity_key(LINKED_MODELS[row.table], row.id)
            touched.append(session.identity_map.get(key))
    for obj in touched:
        if obj is not None:
            session.expire(obj)
