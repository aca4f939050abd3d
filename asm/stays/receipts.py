"""Turn a notification event into the data of its printable receipt."""

from __future__ import annotations

from io import BytesIO

from flask import url_for

from asm.i18n import Translator
from asm.people.models import DOC_LABELS, DocType, Person
from asm.stays.models import EventKind, StayEvent
from asm.stays.pdf import ReceiptData, ReceiptGuest, build_receipt_pdf
from asm.trades import place


def receipt_guest(person: Person, translations: Translator) -> ReceiptGuest:
    return ReceiptGuest(
        full_name=person.full_name,
        document_label=translations.gettext(DOC_LABELS[DocType(person.doc_type)]),
        document_number_masked=person.masked_doc_number,
        birth_date=person.birth_date,
        nationality=person.nationality,
    )


def receipt_data(event: StayEvent, translations: Translator) -> ReceiptData:
    stay = event.stay
    est = stay.establishment
    people = [stay.person]
    if event.kind in (EventKind.CHECK_IN, EventKind.FILE) and stay.head_id is None:
        people += [m.person for m in stay.members]
    with_deadline = event.kind in (EventKind.CHECK_IN, EventKind.FILE)
    return ReceiptData(
        receipt_no=event.receipt_no or "",
        kind=event.kind,
        filed_at=event.at,
        deadline_at=stay.deadline_at if with_deadline else None,
        on_time=(event.at <= stay.deadline_at) if with_deadline else None,
        establishment_name=est.name,
        establishment_code=est.code,
        establishment_address=est.address,
        commune_name=est.commune.full_name,
        guests=[receipt_guest(p, translations) for p in people],
        room=place_of(event),
        arrived_at=stay.arrived_at,
        expected_departure=stay.expected_departure,
        departed_at=stay.departed_at,
        reason=stay.reason,
        filed_by=event.actor,
        verify_url=url_for("stays.receipt", code=est.code, receipt_no=event.receipt_no, _external=True),
        establishment_type=est.type,
    )


def place_of(event: StayEvent) -> str | None:
    """Where the person was at this notification: a hospital's bed as its event recorded it ("K1 · P101 · K1-P101-1",
    each name once), else the stay's room."""
    data = event.data or {}
    if event.kind == EventKind.MOVE and data.get("to"):
        return place(str(data["to"]))
    if data.get("bed"):
        return place(data.get("room"), str(data["bed"]))
    room = event.stay.room
    return room.name if room else None


def receipt_pdf(event: StayEvent, *, translations: Translator) -> BytesIO:
    return BytesIO(build_receipt_pdf(receipt_data(event, translations), translations=translations))
