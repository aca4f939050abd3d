"""The body and answer of POST /api/v1/hospital/events, declared once (asm.api.contract): each event of a batch
is validated on its own by `HospitalEventIn`, and the OpenAPI document takes its JSON Schema from these models.
The rules of applying events are in asm/hospital/events.py."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from asm.api.contract import RULE_CODES, Answer, ApiModel, DateTime, OptionalDate, validate
from asm.api.schemas import EXAMPLE_CARD, GuestIn
from asm.common import ValidationError
from asm.hospital.events import MAX_BATCH, EventInput, EventResult, body_hash, refused
from asm.people.services import PersonInput
from asm.text import is_plain


def plain(value: str) -> str:
    """An identifier or label that reaches a query: no control, bidi or invisible characters (asm/text.py)."""
    if not is_plain(value):
        raise ValueError("control or invisible characters are not allowed")
    return value


EventId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), AfterValidator(plain)]
AdmissionId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), AfterValidator(plain)
]
BedLabel = Annotated[str, StringConstraints(max_length=40), AfterValidator(plain)]
WardCode = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20), AfterValidator(plain)]
RoomName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), AfterValidator(plain)]
RecordNo = Annotated[str, StringConstraints(strip_whitespace=True, max_length=16), AfterValidator(plain)]
ShortText = Annotated[str, StringConstraints(max_length=200)]  # the rules check it as free text (asm/text.py)


class PatientIn(GuestIn):
    """A guest's fields, and `doc_type: none` for a provisional identity (no document yet), recorded as a draft
    under the admission_id until the desk completes it."""

    doc_type: Literal["cccd", "cmnd", "passport", "none", ""] | None = Field(  # type: ignore[assignment]  # widens GuestIn's on purpose: a patient may have no document yet
        None, description="Empty or null: `cccd`"
    )


class HospitalEventIn(ApiModel):
    event_id: EventId = Field(
        description="The event's own idempotency key, unique per hospital. A replay files nothing"
    )
    type: Literal["admission", "transfer", "discharge", "carer", "cancel_admission", "cancel_discharge", "identify"] = (
        Field(
            description="admission, transfer, discharge; carer (a carer staying with the patient); identify (the "
            "document of a provisional patient); cancel_admission / cancel_discharge (the HIS undid one: A11 / A13)"
        )
    )
    admission_id: AdmissionId = Field(
        description="The hospital software's id of the admission (encounter, visit); ties the events together"
    )
    occurred_at: DateTime = Field(description="When it happened (an admission's arrival: its deadline follows)")
    patient: PatientIn | None = Field(None, description="admission and identify, and required there")
    carer: GuestIn | None = Field(None, description="carer only, and required there: the carer's identity")
    relation: ShortText | None = Field(None, description="carer only, and required there: the relation")
    bed: BedLabel | None = Field(
        None, description="admission and transfer: the bed label (or `ward`, and `room`, for the first free bed)"
    )
    ward: WardCode | None = Field(None, description="admission and transfer without a bed label: the ward's code")
    room: RoomName | None = Field(None, description="with `ward`: the room")
    record_no: RecordNo | None = Field(
        None, description="a provisional patient's record number (default: the admission_id)"
    )
    reason: ShortText | None = Field(None, description="cancel_admission / cancel_discharge: why")
    expected_discharge: OptionalDate = Field(None, description="admission only")
    with_carers: bool = Field(True, description="discharge only: false keeps the carers' stays open")


class EventBatchIn(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {
                            "event_id": "HIS-2026-000123",
                            "type": "admission",
                            "admission_id": "NV-2026-0456",
                            "occurred_at": "2026-11-20T09:15:00+07:00",
                            "patient": {"qr": EXAMPLE_CARD},
                            "bed": "K1-101-1",
                        },
                        {
                            "event_id": "HIS-2026-000124",
                            "type": "transfer",
                            "admission_id": "NV-2026-0456",
                            "occurred_at": "2026-11-21T14:00:00+07:00",
                            "bed": "K2-201-1",
                        },
                    ]
                }
            ]
        }
    )

    events: list[HospitalEventIn] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="Applied in `occurred_at` order; a malformed event is refused in its own result "
        "(`event_invalid`), the others are applied",
    )


PERSON_RULE_CODES = frozenset(code for code, _message in RULE_CODES.values())


def read_event(raw: Any, index: int) -> EventInput | EventResult:
    """A well-formed event, or its own refusal (`event_invalid`, with the fields at fault)."""
    if not isinstance(raw, dict):
        return refused(index, None, "event_invalid", "An event is a JSON object", {"event": ["object expected"]})
    try:
        event = validate(HospitalEventIn, raw)
        errors = ValidationError()
    except ValidationError as exc:
        event, errors = None, exc
    kind = raw.get("type")
    bed, ward = raw.get("bed"), raw.get("ward")
    located = any(isinstance(v, str) and v.strip() for v in (bed, ward))
    if kind in ("admission", "transfer") and "bed" not in errors.errors and not located:
        errors.add("bed", "the bed label (or a ward code) is required", "required")
    if kind in ("admission", "identify") and raw.get("patient") is None:
        errors.add("patient", f"required for {kind}", "required")
    patient = raw.get("patient")
    if kind == "identify" and isinstance(patient, dict) and patient.get("doc_type") == "none":
        errors.add("patient.doc_type", "identify needs the patient's document", "doc_type_invalid")
    if kind == "carer":
        if raw.get("carer") is None:
            errors.add("carer", "required for a carer", "required")
        if not (isinstance(raw.get("relation"), str) and raw["relation"].strip()):
            errors.add("relation", "the carer's relation to the patient is required", "required")
    if errors or event is None:
        event_id = raw.get("event_id")
        valid_id = event_id.strip() if isinstance(event_id, str) and 1 <= len(event_id.strip()) <= 100 else None
        # A person's field refused by its rule's own bound keeps the rule's code, as the rules would answer it.
        codes = set(errors.codes.values())
        code = codes.pop() if len(codes) == 1 and codes <= PERSON_RULE_CODES else "event_invalid"
        return refused(index, valid_id, code, "The event is malformed", errors.errors)
    return EventInput(
        index=index,
        event_id=event.event_id,
        type=event.type,
        admission_id=event.admission_id,
        occurred_at=event.occurred_at,
        body_hash=body_hash(raw),
        patient=person_of(event),
        bed=(event.bed or "").strip(),
        expected_discharge=event.expected_discharge,
        with_carers=event.with_carers,
        ward=event.ward or "",
        room=event.room or "",
        record_no=event.record_no or "",
        relation=event.relation or "",
        reason=event.reason or "",
    )


def person_of(event: HospitalEventIn) -> PersonInput | None:
    """The person an event names: the patient (admission, identify) or the carer (carer)."""
    if event.type in ("admission", "identify") and event.patient is not None:
        return event.patient.to_input()
    if event.type == "carer" and event.carer is not None:
        return event.carer.to_input()
    return None


class EventError(Answer):
    code: str = Field(
        description="event_invalid (malformed; see fields), event_id_reused, admission_unknown, admission_exists, "
        "admission_closed, bed_unknown, bed_occupied, already_in_house, not_filed, and the validation codes of a "
        "guest"
    )
    message: str
    fields: dict[str, list[str]] | None = None


class EventResultOut(Answer):
    index: int = Field(description="Position of the event in the batch")
    event_id: str | None
    status: Literal["applied", "recorded_late", "duplicate", "refused"] = Field(
        description="recorded_late: older than the admission's last event; written to the history only. "
        "duplicate: this event_id was already received; nothing filed."
    )
    stay_id: int | None = None
    receipt_no: str | None = Field(None, description="The notification's receipt, when one was filed")
    error: EventError | None = Field(None, description="refused only")


class EventBatchAnswer(Answer):
    results: list[EventResultOut] = Field(description="One per event, in the order sent")
    summary: dict[str, int] = Field(description="How many events per status")
