"""JSON of the API's answers, from stays or plain values (their schemas: asm/api/schemas.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from asm.clock import utcnow
from asm.people.models import mask
from asm.stays.models import Stay


def stay_json(stay: Stay, now: datetime | None = None) -> dict[str, Any]:
    person = stay.person
    foreign = stay.foreign
    return stay_payload(
        declaration=declaration_payload(foreign, now or utcnow()) if foreign is not None else None,
        id=stay.id,
        status=stay.status,
        notice_state=stay.state(now or utcnow()),
        receipt_no=stay.receipt_no,
        head_id=stay.head_id,
        room=stay.room.name if stay.room else None,
        reason=stay.reason,
        arrived_at=stay.arrived_at,
        expected_departure=stay.expected_departure,
        departed_at=stay.departed_at,
        deadline_at=stay.deadline_at,
        filed_at=stay.filed_at,
        person=person_payload(
            person.full_name, person.doc_type, person.doc_number, person.nationality, person.birth_date
        ),
    )


def stay_payload(
    *,
    id: Any,  # an int, or the placeholder of an id not known yet (asm/filing/sql.py)
    status: str,
    notice_state: str,
    receipt_no: str | None,
    head_id: int | None,
    room: str | None,
    reason: str,
    arrived_at: datetime,
    expected_departure: date | None,
    departed_at: datetime | None,
    deadline_at: datetime,
    filed_at: datetime | None,
    person: dict[str, Any],
    declaration: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON of a stay, from plain values: a stay object (`stay_json`) or a filing written in SQL."""
    return {
        "id": id,
        "status": status,
        "notice_state": notice_state,
        "receipt_no": receipt_no,
        "head_id": head_id,
        "room": room,
        "reason": reason,
        "arrived_at": utc_iso(arrived_at),
        "expected_departure": expected_departure.isoformat() if expected_departure else None,
        "departed_at": utc_iso(departed_at),
        "deadline_at": utc_iso(deadline_at),
        "filed_at": utc_iso(filed_at),
        "person": person,
        "declaration": declaration,
    }


def declaration_payload(foreign: Any, now: datetime) -> dict[str, Any]:
    """A foreign national's temporary-residence declaration (asm/foreigners) and the stay's foreign details."""
    return {
        "deadline_at": utc_iso(foreign.deadline_at),
        "deadline_hours": foreign.deadline_hours,
        "state": str(foreign.state(now)),
        "declared_at": utc_iso(foreign.declared_at),
        "reference": foreign.declaration_ref,
        "passport_expiry": foreign.passport_expiry.isoformat() if foreign.passport_expiry else None,
        "visa_type": foreign.visa_type,
        "visa_number": foreign.visa_number,
        "entry_date": foreign.entry_date.isoformat() if foreign.entry_date else None,
        "entry_port": foreign.entry_port,
        "entry_purpose": foreign.entry_purpose,
    }


def person_payload(
    full_name: str, doc_type: str, doc_number: str, nationality: str, birth_date: date
) -> dict[str, Any]:
    return {
        "full_name": full_name,
        "doc_type": doc_type,
        "doc_number_masked": mask(doc_number),
        "nationality": nationality,
        "birth_date": birth_date.isoformat(),
    }


def utc_iso(value: datetime | None) -> str | None:
    """Always in UTC: a stay just written still holds the client's offset, one read back from the database not."""
    return value.astimezone(UTC).isoformat() if value else None
