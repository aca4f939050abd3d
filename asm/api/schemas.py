"""The bodies and answers of API v1 (stays and ID cards), declared once: they validate the requests
(`asm.api.contract.read_body`) and are the JSON Schemas of the OpenAPI document (`asm.api.openapi`).

The limits of the strings are the database's columns (a longer value was a 500 on PostgreSQL before).
The views turn a body into the services' input (`to_input`): `asm.stays.services.CheckInInput` and
`asm.people.services.PersonInput`; the rules (ID numbers, dates, rooms) stay in the services.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from asm.api.contract import Answer, ApiModel, Date, OptionalDate, OptionalDateTime
from asm.foreigners.labels import VISA_TYPES
from asm.idcard import CardData, CardError
from asm.idcard.mrz import MrzData
from asm.people import documents
from asm.people.services import ForeignInput, PersonInput
from asm.stays.rules import NoticeState
from asm.stays.services import MAX_GROUP, CheckInInput
from asm.web.i18n import current_locale

PAGE_DEFAULT = 100  # GET /stays: stays per page unless `limit` says otherwise
PAGE_MAX = 500  # ... and at most

# The card of DOMAIN.md's example (Thái Bình, born 2003): the document's examples, which the fuzz test also sends.
EXAMPLE_CARD = "034303011829||Nguyễn Thị Hoa|21032003|Nữ|Thôn Lai Ổn, An Quý, Quỳnh Phụ, Thái Bình|14082021"
QR_MAX = 1000  # a card's QR text is about 150 characters; a new card's with extra fields under 400
Name = Annotated[str, StringConstraints(max_length=120)]
Address = Annotated[str, StringConstraints(max_length=300)]
Reason = Annotated[str, StringConstraints(max_length=200)]
CancelReason = Annotated[str, StringConstraints(max_length=255)]
RoomName = Annotated[str, StringConstraints(max_length=40)]
DocNumber = Annotated[str, StringConstraints(max_length=32)]  # normalised by the rules to at most 20
Nationality = Annotated[str, StringConstraints(max_length=16)]  # ISO 3166-1 alpha-3 once trimmed (the rules)


class ScannedText(str):
    """The text of a card's QR code or a document's MRZ, already parsed (`card`)."""

    card: CardData | MrzData

    def __new__(cls, text: str, card: CardData | MrzData) -> ScannedText:
        value = super().__new__(cls, text)
        value.card = card
        return value


def parse_card_text(text: str | None) -> str | None:
    """A guest's `qr`, parsed as the desk parses a scan; its CardError becomes the field's error and code."""
    if not text:
        return text
    try:
        return ScannedText(text, documents.read_text(text))
    except CardError as exc:
        raise PydanticCustomError(exc.code, "{message}", {"message": exc.message(current_locale())}) from None


QrText = Annotated[Annotated[str, StringConstraints(max_length=QR_MAX)] | None, AfterValidator(parse_card_text)]


class ForeignIn(ApiModel):
    """A foreign guest's entry and visa details (form NA17): all optional at check-in, completed later if needed."""

    passport_expiry: OptionalDate = None
    visa_type: Literal[tuple(VISA_TYPES)] | None = Field(None, description="The document the guest stays on")  # type: ignore[valid-type]  # a Literal of the codes
    visa_number: Annotated[str, StringConstraints(max_length=30)] | None = None
    entry_date: OptionalDate = None
    entry_port: Annotated[str, StringConstraints(max_length=80)] | None = None
    entry_purpose: Annotated[str, StringConstraints(max_length=100)] | None = None

    def to_input(self, base: ForeignInput | None) -> ForeignInput:
        """What this object says, over what the document gave (a passport's MRZ gives its expiry)."""
        details = base or ForeignInput()
        for name in self.model_fields_set:
            setattr(details, name, getattr(self, name) or None)
        return details


class GuestIn(ApiModel):
    """Either `qr` (the raw text the scanner read: an ID card's or VNeID's QR, or a passport's machine-readable
    zone, parsed and checked by the server) or the fields; `foreign` for a foreign guest's entry details."""

    qr: QrText = Field(None, description="The text of a chip ID card's or VNeID's QR code, or a passport's MRZ")
    doc_type: Literal["cccd", "cmnd", "passport", ""] | None = Field(None, description="Empty or null: `cccd`")
    doc_number: DocNumber | None = None
    nationality: Nationality | None = Field(None, description="ISO 3166-1 alpha-3; empty or null: `VNM`")
    full_name: Name | None = None
    birth_date: OptionalDate = None
    sex: Literal["M", "F", ""] | None = Field(None, description="Empty or null: not stated")
    address: Address | None = None
    foreign: ForeignIn | None = None

    def to_input(self) -> PersonInput:
        if isinstance(self.qr, ScannedText):
            person = PersonInput.from_document(self.qr.card)
        else:
            person = PersonInput(
                doc_type=self.doc_type or "cccd",
                doc_number=self.doc_number or "",
                nationality=self.nationality or "VNM",
                full_name=self.full_name or "",
                birth_date=self.birth_date,
                sex=self.sex or None,
                address=self.address or None,
            )
        if self.foreign is not None:
            person.foreign = self.foreign.to_input(person.foreign)
        return person


class CheckInBody(ApiModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"guests": [{"qr": EXAMPLE_CARD}], "reason": "Du lịch", "expected_departure": "2026-11-26"},
                {
                    "guests": [
                        {
                            "doc_type": "passport",
                            "doc_number": "C1234567",
                            "nationality": "DEU",
                            "full_name": "Anna Schmidt",
                            "birth_date": "1990-05-17",
                            "sex": "F",
                        }
                    ],
                    "reason": "Du lịch",
                    "file": False,
                },
            ]
        }
    )

    guests: list[GuestIn] = Field(min_length=1, max_length=MAX_GROUP, description="The first is the group's head")
    reason: Reason = Field(description="The reason of the stay (lý do lưu trú), e.g. `Du lịch`")
    room: RoomName | None = Field(None, description="A room of the establishment, by its name")
    arrived_at: OptionalDateTime = Field(None, description="Default: now. Not in the future, at most 30 days ago")
    expected_departure: OptionalDate = None
    file: bool | None = Field(None, description="Default true; false records a draft to file later")

    def to_input(self, now: datetime) -> CheckInInput:
        return CheckInInput(
            guests=[guest.to_input() for guest in self.guests],
            arrived_at=self.arrived_at or now,
            reason=self.reason,
            expected_departure=self.expected_departure,
            file_now=self.file is not False,
        )


class CheckOutBody(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{}, {"departed_at": "2026-11-25T11:30:00+07:00"}]})

    departed_at: OptionalDateTime = Field(None, description="Default: now")


class ExtendBody(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"expected_departure": "2026-12-31"}]})

    expected_departure: Date = Field(description="The new expected departure: from today on")


class MoveBody(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"room": "102"}]})

    room: Annotated[RoomName, StringConstraints(min_length=1)] = Field(description="The new room, by its name")


class DeclarationBody(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reference": "XNC-2026-001234"}]})

    reference: Annotated[str, StringConstraints(min_length=1, max_length=60)] = Field(
        description="The reference number the immigration portal gave, or the NA17 receipt's"
    )
    declared_at: OptionalDateTime = Field(None, description="When it was made (default: now)")


class CancelBody(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Nhập nhầm"}]})

    reason: CancelReason = Field(description="Why the stay is withdrawn")


class CardTextBody(ApiModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"text": EXAMPLE_CARD}]})

    text: Annotated[str, StringConstraints(max_length=QR_MAX)] = Field(
        description="The text of the QR code, as a scanner or a camera read it"
    )


class StayListQuery(ApiModel):
    q: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="Name, document number or room"
    )
    limit: int = Field(PAGE_DEFAULT, ge=1, le=PAGE_MAX, description=f"Stays per page: {PAGE_DEFAULT} unless given")
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="The `next` of the previous page (opaque)"
    )


# --------------------------------------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------------------------------------


class PersonOut(Answer):
    full_name: str
    doc_type: Literal["cccd", "cmnd", "passport", "none"]
    doc_number_masked: str = Field(description="All but the last four characters masked")
    nationality: str
    birth_date: date


class DeclarationOut(Answer):
    """A foreign national's temporary-residence declaration (12 h after arrival; 24 h in a remote commune)."""

    deadline_at: datetime
    deadline_hours: int
    state: Literal["pending", "overdue", "on_time", "late"]
    declared_at: datetime | None
    reference: str | None = Field(description="The reference the immigration portal or the NA17 receipt gave")
    passport_expiry: date | None
    visa_type: str | None
    visa_number: str | None
    entry_date: date | None
    entry_port: str | None
    entry_purpose: str | None


class StayOut(Answer):
    id: int
    status: Literal["draft", "in_house", "checked_out", "cancelled"]
    notice_state: NoticeState
    receipt_no: str | None = Field(description="The notification's receipt; null for a draft never filed")
    head_id: int | None = Field(description="The stay of the group's head; null for the head or one guest")
    room: str | None
    reason: str
    arrived_at: datetime
    expected_departure: date | None
    departed_at: datetime | None
    deadline_at: datetime = Field(description="The notification is due by then (23:00, or 08:00 next day)")
    filed_at: datetime | None
    person: PersonOut
    declaration: DeclarationOut | None = Field(None, description="A foreign national's stay only; null otherwise")


class CheckInAnswer(Answer):
    stays: list[StayOut]
    warnings: list[str] = Field(description="E.g. a guest is also in house at another establishment")


class StayPage(Answer):
    stays: list[StayOut]
    count: int = Field(description="Stays on this page")
    next: str | None = Field(description="The cursor of the next page; null on the last page")


class OneStay(Answer):
    stay: StayOut


class StayChanged(Answer):
    stay: StayOut
    receipt_no: str | None = Field(description="The change's own receipt; null when nothing was notified")


class CardOut(Answer):
    id_number: str
    old_id_number: str | None
    full_name: str
    birth_date: date
    sex: Literal["M", "F"]
    address: str
    issue_date: date | None
    extra_fields: list[str]
    card_format: Literal["cccd_7", "can_cuoc"]


class MrzWarningOut(Answer):
    code: str
    field: str | None
    message_vi: str
    message_en: str


class MrzCardOut(Answer):
    """A passport's or an ICAO identity card's MRZ: the keys of a card's QR (same meaning) and the MRZ's own."""

    id_number: str | None = Field(description="A Vietnamese document's 12-digit personal number, else null")
    old_id_number: None
    full_name: str
    birth_date: date | None
    sex: Literal["M", "F"] | None
    address: None
    issue_date: None
    extra_fields: list[str]
    card_format: str
    doc_type: Literal["passport", "id_card", "visa"]
    mrz_format: str
    document_code: str
    document_number: str
    issuing_state: str = Field(description="ISO 3166-1 alpha-3 or ICAO's own code")
    issuing_state_name_vi: str | None
    issuing_state_name_en: str | None
    nationality: str = Field(description="ISO 3166-1 alpha-3 or ICAO's own code")
    nationality_name_vi: str | None
    nationality_name_en: str | None
    expiry: date | None
    surname: str
    given_names: str
    optional_data: str
    optional_data_2: str = Field(description="TD1 line 2's optional data; empty for other formats")
    mrz: list[str]
    corrected_fields: list[str]
    warnings: list[MrzWarningOut]


class CardAnswer(Answer):
    card: CardOut | MrzCardOut


class ErrorBody(Answer):
    code: str = Field(description="Stable machine-readable code")
    message: str = Field(description="In the request's language (Vietnamese unless `?lang=en`)")
    field: str | None = Field(None, description="ID card errors: the card field at fault")
    fields: dict[str, list[str]] | None = Field(None, description="Field-level messages, e.g. `guests.0.doc_number`")
    codes: dict[str, str] | None = Field(None, description="Field-level stable codes, by the same keys as `fields`")
    message_vi: str | None = None
    message_en: str | None = None


class ErrorAnswer(Answer):
    error: ErrorBody


def error_payload(status: int, code: str, message: str, **extra: Any) -> tuple[dict[str, Any], int]:
    return {"error": {"code": code, "message": message, **extra}}, status
