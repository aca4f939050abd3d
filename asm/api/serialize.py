"""JSON shapes of the API, and reading its input."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from asm.clock import VN_TZ, utcnow
from asm.common import ValidationError
from asm.people.models import mask
from asm.people.services import ForeignInput, PersonInput
from asm.stays.models import Stay


def stay_json(stay: Stay, now: datetime | None = None) -> dict[str, Any]:
    person = stay.person
    foreign = getattr(stay, "foreign", None)
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
    id: Any,  # an int, or the placeholder of an id not known yet (asm/api/filing.py)
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
    """The JSON of a stay, from plain values: a stay object (`stay_json`) or a filing written in SQL. A foreign
    national's stay carries its temporary-residence `declaration` (None for a citizen's)."""
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


def read_datetime(value: Any, field: str, errors: ValidationError) -> datetime | None:
    """ISO 8601; without an offset it is Vietnam time."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        errors.add(field, "ISO 8601 date-time expected, e.g. 2026-11-23T21:05:00+07:00", "datetime_invalid")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)


def read_date(value: Any, field: str, errors: ValidationError) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.add(field, "ISO 8601 date expected, e.g. 2026-11-25", "date_invalid")
        return None


def read_string(body: dict[str, Any], name: str, errors: ValidationError, prefix: str = "") -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.add(prefix + name, "string expected", "type_invalid")
        return ""
    return value


def read_person(raw: Any, i: int, errors: ValidationError) -> PersonInput | None:
    from asm.idcard import CardError
    from asm.people import documents

    prefix = f"guests.{i}."
    if not isinstance(raw, dict):
        errors.add(f"guests.{i}", "object expected", "type_invalid")
        return None
    if raw.get("qr"):  # the text a scanner read: a chip card's QR or a passport's MRZ
        try:
            person = PersonInput.from_document(documents.read_text(str(raw["qr"])))
        except CardError as exc:
            errors.add(prefix + "qr", exc.message("en"), exc.code)
            return None
    else:
        person = PersonInput(
            doc_type=read_string(raw, "doc_type", errors, prefix) or "cccd",
            doc_number=read_string(raw, "doc_number", errors, prefix),
            nationality=read_string(raw, "nationality", errors, prefix) or "VNM",
            full_name=read_string(raw, "full_name", errors, prefix),
            birth_date=read_date(raw.get("birth_date"), prefix + "birth_date", errors),
            sex=read_string(raw, "sex", errors, prefix) or None,
            address=read_string(raw, "address", errors, prefix) or None,
        )
    if raw.get("foreign") is not None:
        person.foreign = read_foreign(raw["foreign"], person.foreign, prefix + "foreign.", errors)
    return person


def read_foreign(raw: Any, base: ForeignInput | None, prefix: str, errors: ValidationError) -> ForeignInput | None:
    """A foreign guest's `foreign` object (entry and visa details); what the MRZ gave (the passport's expiry)
    stays unless the object says otherwise."""
    if not isinstance(raw, dict):
        errors.add(prefix.rstrip("."), "object expected", "type_invalid")
        return base
    details = base or ForeignInput()
    for name in ("passport_expiry", "entry_date"):
        if name in raw:
            setattr(details, name, read_date(raw.get(name), prefix + name, errors))
    for name in ("visa_type", "visa_number", "entry_port", "entry_purpose"):
        if name in raw:
            setattr(details, name, read_string(raw, name, errors, prefix) or None)
    return details
