"""The plan of a filing: every row it writes, as plain values. No Flask, no database.

The rules (`asm.filing.core.Filing`) build a plan from any channel's input; a writer writes it: the set-based
writer (`asm.filing.writer`, every channel, both databases) or, for one guest filed through the API on PostgreSQL,
the one-statement writer (`asm.filing.sql`). Rows refer to each other by object (a stay's person, an event's
stay), so a plan can be built before any id is known; the writer fills the ids in as it inserts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

Key = tuple[str, str, str]  # a person's document: (doc_type, doc_number, nationality)

# What record_person has always written: the name, birth date and sex as confirmed now; the optional fields
# only when given (a QR without an address does not erase the one on file).
PERSON_ALWAYS = ("full_name", "birth_date", "sex")
PERSON_OPTIONAL = ("address", "old_id_number", "id_issue_date", "card_extra")


@dataclass(eq=False)
class PersonRow:
    """A person the plan inserts (`new`) or brings up to date (`changes`); `values` is the row after the write."""

    key: Key
    values: dict[str, Any]
    id: int | None = None
    new: bool = False
    changes: dict[str, Any] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return str(self.values.get("full_name") or "")

    @property
    def numbers(self) -> list[str]:
        """The document numbers the police watch list is matched against."""
        return [n.upper() for n in (self.key[1], self.values.get("old_id_number")) if n]


@dataclass(eq=False)
class StayRow:
    """A stay the plan inserts (`new`) or changes (`changed` names the columns)."""

    establishment_id: int
    status: str
    source: str
    reason: str
    arrived_at: datetime
    deadline_at: datetime
    person: PersonRow | None = None  # a new stay's person (its id may not be known yet)
    person_id: int | None = None
    role: str = "guest"
    room_id: int | None = None
    room_name: str | None = None
    head: StayRow | None = None
    head_id: int | None = None
    expected_departure: date | None = None
    departed_at: datetime | None = None
    filed_at: datetime | None = None
    receipt_no: str | None = None
    cancel_reason: str | None = None
    created_at: datetime | None = None
    id: int | None = None
    new: bool = False
    changed: set[str] = field(default_factory=set)
    person_name: str = ""
    numbers: list[str] = field(default_factory=list)  # the person's document numbers, for the watch list
    provisional: bool = False  # the person has no document yet (hospitals): the stay cannot be filed
    key: Key | None = None  # the person's document, while the stay is open here (for "already in house")
    declaration_deadline_at: datetime | None = None  # a foreign national's: the declaration's deadline
    filed_late_reason: str | None = None  # "outage": a device kept it while the server was away, and it came late

    def set(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)
            if not self.new:
                self.changed.add(name)

    @property
    def is_open(self) -> bool:
        return self.status in ("draft", "in_house")

    def columns(self) -> dict[str, Any]:
        """The row of a new stay, person and head resolved (the writer calls this once they have ids)."""
        return {
            "id": self.id,
            "establishment_id": self.establishment_id,
            "person_id": self.person.id if self.person is not None else self.person_id,
            "room_id": self.room_id,
            "head_id": self.head.id if self.head is not None else self.head_id,
            "status": self.status,
            "source": self.source,
            "reason": self.reason,
            "arrived_at": self.arrived_at,
            "expected_departure": self.expected_departure,
            "departed_at": self.departed_at,
            "deadline_at": self.deadline_at,
            "filed_at": self.filed_at,
            "receipt_no": self.receipt_no,
            "cancel_reason": self.cancel_reason,
            "created_at": self.created_at,
            "role": self.role,
            "filed_late_reason": self.filed_late_reason,
        }


@dataclass(eq=False)
class EventRow:
    """A line of a stay's append-only history."""

    stay: StayRow
    kind: str
    at: datetime
    actor: str
    user_id: int | None
    token_id: int | None
    receipt_no: str | None
    data: dict[str, Any]
    chain: dict[str, str] = field(default_factory=dict)  # prev_hash and row_hash, set by the writer

    def columns(self) -> dict[str, Any]:
        return {
            "stay_id": self.stay.id,
            "kind": self.kind,
            "at": self.at,
            "actor": self.actor,
            "user_id": self.user_id,
            "token_id": self.token_id,
            "receipt_no": self.receipt_no,
            "data": self.data,
        }


@dataclass(eq=False)
class LinkedRow:
    """A row of another table tied to stays of the plan (a bed assignment, a carer, a hospital event). `refs` name
    the columns whose value is a stay's id, known once the stays are written. With `id`, an UPDATE of that row."""

    table: str
    values: dict[str, Any]
    refs: dict[str, StayRow] = field(default_factory=dict)
    id: int | None = None

    def columns(self) -> dict[str, Any]:
        return self.values | {name: stay.id for name, stay in self.refs.items()}


@dataclass(frozen=True)
class Warning:
    """Something the clerk should know that does not stop the filing: a stable code and its message."""

    code: str
    message: str


@dataclass
class Plan:
    """Everything one filing writes, in the order the writer needs (people, stays, history, linked rows)."""

    establishment_id: int
    commune_code: str
    now: datetime
    people: list[PersonRow] = field(default_factory=list)
    stays: list[StayRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    linked: list[LinkedRow] = field(default_factory=list)
    filed: list[StayRow] = field(default_factory=list)  # newly notified: the police watch list is matched for them
    warnings: list[Warning] = field(default_factory=list)
    alerts: list[tuple[int, StayRow]] = field(default_factory=list)  # (watch entry id, stay): set by the writer

    def is_empty(self) -> bool:
        return not (self.people or self.stays or self.events or self.linked)
