"""The registry of hash chains, how a new row is sealed, and `verify`.

A `Chain` names a table, the columns hashed (in their canonical form, `asm.audit.chain`), the columns that split
it into independent chains (`partition`: none for the access log, which is one chain; `("stay_id",)` would give
each stay its own chain) and the columns that hold each row's predecessor's hash and its own.

Sealing a row: `lock` the chain (on PostgreSQL an advisory lock held to the end of the transaction, so that two
writers never link to the same predecessor), read its `last_hash`, compute `chain_hash(prev, fields)`, insert.
Rows of chains registered with `orm=True` are sealed by a `before_flush` hook: add them to the session like any
row. A writer in plain SQL calls `seal(connection, chain, values)` itself, in the transaction that inserts.

`verify(connection, chain)` walks a chain in order and returns the first broken link, or None.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, event, func, inspect, select, text
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.orm import Session

from asm.audit.chain import GENESIS, chain_hash


@dataclass(frozen=True)
class Chain:
    name: str
    table: Table
    fields: tuple[str, ...]
    partition: tuple[str, ...] = ()
    order: str = "id"
    prev_column: str = "prev_hash"
    hash_column: str = "row_hash"
    orm: bool = False  # sealed by the session's before_flush hook

    def fields_of(self, row: Mapping[Any, Any]) -> dict[str, Any]:
        return {name: row[name] for name in self.fields}

    def partition_of(self, row: Mapping[Any, Any]) -> tuple[Any, ...]:
        return tuple(row[name] for name in self.partition)


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain: the row, and what is wrong with it."""

    chain: str
    row_id: Any
    partition: tuple[Any, ...]
    problem: str  # "edited": its fields or hash changed; "link": a row before it was removed, added or moved
    expected: str | None
    found: str | None

    def describe(self) -> str:
        where = f" (partition {', '.join(map(str, self.partition))})" if self.partition else ""
        what = {
            "edited": "its content does not match its hash: the row was changed",
            "link": "it does not link to the row before it: a row was removed, inserted or reordered before it",
            "unsealed": "it carries no hash",
        }[self.problem]
        return f"{self.chain}: row {self.row_id}{where}: {what} (expected {self.expected}, found {self.found})"


@dataclass(frozen=True)
class Result:
    chain: str
    rows: int
    broken: Break | None
    head: str | None  # the last row's hash (of the last partition, for a partitioned chain)


CHAINS: dict[str, Chain] = {}


def register(chain: Chain) -> Chain:
    CHAINS[chain.name] = chain
    return chain


def _int32(value: Any) -> int:
    """An advisory-lock key from any value (collisions only make two chains wait for each other)."""
    if isinstance(value, int) and -(2**31) <= value < 2**31:
        return value
    return zlib.crc32(repr(value).encode()) - 2**31


def lock(connection: Connection, chain: Chain, partition: Sequence[Any] = ()) -> None:
    """Take the chain's lock until the transaction ends. PostgreSQL: an advisory transaction lock. SQLite takes
    its database write lock at the insert and refuses a writer whose read is stale, so nothing to do there."""
    if connection.dialect.name == "postgresql":
        key = _int32(tuple(partition)) if partition else 0
        connection.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": _int32(chain.name), "b": key})


def lock_many(connection: Connection, chain: Chain, partitions: Sequence[int]) -> None:
    """`lock` for many partitions of one integer key at once (in one order, so two writers never deadlock)."""
    if connection.dialect.name == "postgresql" and partitions:
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:a, key) FROM unnest(CAST(:keys AS integer[])) AS key ORDER BY key"),
            {"a": _int32(chain.name), "keys": sorted({_int32((p,)) for p in partitions})},
        )


def last_hashes(connection: Connection, chain: Chain, partitions: Sequence[Any]) -> dict[Any, str]:
    """The last hash of each of many single-column partitions (GENESIS where a partition has no row), one query."""
    t = chain.table
    column = t.c[chain.partition[0]]
    last = select(func.max(t.c[chain.order])).where(column.in_(partitions)).group_by(column)
    found = dict(connection.execute(select(column, t.c[chain.hash_column]).where(t.c[chain.order].in_(last))).all())
    return {p: found.get(p, GENESIS) for p in partitions}


def last_hash(connection: Connection, chain: Chain, partition: Sequence[Any] = ()) -> str:
    t = chain.table
    query = select(t.c[chain.hash_column]).order_by(t.c[chain.order].desc()).limit(1)
    for name, value in zip(chain.partition, partition, strict=True):
        query = query.where(t.c[name] == value)
    return connection.execute(query).scalar() or GENESIS


def seal(connection: Connection, chain: Chain, values: Mapping[str, Any]) -> dict[str, str]:
    """The chain columns for a row about to be inserted (plain-SQL writers): lock, read the last hash, link."""
    partition = chain.partition_of(values)
    lock(connection, chain, partition)
    prev = last_hash(connection, chain, partition)
    return {chain.prev_column: prev, chain.hash_column: chain_hash(prev, chain.fields_of(values))}


def _seal_new_rows(session: Session, flush_context: Any, instances: Any) -> None:
    """before_flush: seal the new rows of ORM-sealed chains, in the order they were added."""
    new = [obj for obj in session.new if getattr(obj, "__table__", None) is not None]
    if not new:
        return
    by_table = {c.table.name: c for c in CHAINS.values() if c.orm}
    pending = [obj for obj in new if obj.__table__.name in by_table]
    if not pending:
        return
    pending.sort(key=lambda obj: inspect(obj).insert_order)
    heads: dict[tuple[str, tuple[Any, ...]], str] = {}
    connection = session.connection()
    for obj in pending:
        chain = by_table[obj.__table__.name]
        values = {name: getattr(obj, name) for name in (*chain.fields, *chain.partition)}
        part = chain.partition_of(values)
        key = (chain.name, part)
        if key not in heads:
            lock(connection, chain, part)
            heads[key] = last_hash(connection, chain, part)
        prev = heads[key]
        row_hash = chain_hash(prev, chain.fields_of(values))
        setattr(obj, chain.prev_column, prev)
        setattr(obj, chain.hash_column, row_hash)
        heads[key] = row_hash


def install() -> None:
    """Seal ORM-chained rows on every session (idempotent)."""
    if not event.contains(Session, "before_flush", _seal_new_rows):
        event.listen(Session, "before_flush", _seal_new_rows)


def _query(chain: Chain) -> Any:
    t = chain.table
    columns = {chain.order, chain.prev_column, chain.hash_column, *chain.fields, *chain.partition}
    return select(*(t.c[name] for name in sorted(columns))).order_by(
        *(t.c[name] for name in chain.partition), t.c[chain.order]
    )


def verify(connection: Connection, chain: Chain, *, chunk: int = 5000) -> Result:
    """Walk the chain in order; the first row whose stored hash is not that of its fields and its stored
    predecessor's hash (edited), or whose stored predecessor is not the hash of the row before it (link)."""
    anchors = purge_anchors(connection, chain)
    result = connection.execution_options(yield_per=chunk).execute(_query(chain))  # a server-side cursor on PG
    try:
        return _walk(chain, result.mappings(), anchors)
    finally:
        result.close()


def purge_anchors(connection: Connection, chain: Chain) -> frozenset[str]:
    """The hashes of the last rows the retention purge removed from this chain (its ledger, asm/jobs/purge.py): the
    first row left may link to one of them instead of to the genesis."""
    if chain.partition:
        return frozenset()  # a partitioned chain (a stay's history) is purged whole
    found = connection.execute(
        text("SELECT anchor FROM purge_ledger WHERE target = :t AND anchor IS NOT NULL"), {"t": chain.table.name}
    ).scalars()
    return frozenset(found)


def _walk(chain: Chain, rows_in_order: Iterable[RowMapping], anchors: frozenset[str] = frozenset()) -> Result:
    rows = 0
    current: tuple[Any, ...] | None = None
    expected_prev = GENESIS
    head: str | None = None
    for row in rows_in_order:
        rows += 1
        part = chain.partition_of(row)
        if part != current:
            current, expected_prev = part, GENESIS
        prev, stored = row[chain.prev_column], row[chain.hash_column]
        if stored is None or prev is None:
            return Result(chain.name, rows, Break(chain.name, row[chain.order], part, "unsealed", None, None), head)
        if expected_prev == GENESIS and rows == 1 and prev in anchors:
            expected_prev = prev  # the oldest rows were purged; the ledger keeps the hash they ended with
        if prev != expected_prev:
            return Result(
                chain.name, rows, Break(chain.name, row[chain.order], part, "link", expected_prev, prev), head
            )
        computed = chain_hash(prev, chain.fields_of(row))
        if computed != stored:
            return Result(chain.name, rows, Break(chain.name, row[chain.order], part, "edited", computed, stored), head)
        expected_prev = head = stored
    return Result(chain.name, rows, None, head)


def verify_all(connection: Connection) -> list[Result]:
    return [verify(connection, chain) for chain in CHAINS.values()]
