"""Find or record a person by document; validate what a desk, the API or a kiosk sends about them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from asm import text as rules
from asm.common import ValidationError
from asm.extensions import db
from asm.idcard import CardData, CardError, check_id_number, check_old_id, normalize_document
from asm.idcard.mrz import MrzData, MrzError
from asm.people.models import DocType, Person

CARD_EXTRA_MAX = 200  # each extra field of a căn cước QR, kept as text


@dataclass
class ForeignInput:
    """What a foreign guest's stay records for the foreigners' declaration (NA17): all optional at check-in (a
    passport's MRZ gives only the expiry), checked by the filing core (asm/filing/core.validate_foreign)."""

    passport_expiry: date | None = None
    visa_type: str | None = None  # asm/foreigners/rules.VISA_TYPES
    visa_number: str | None = None
    entry_date: date | None = None
    entry_port: str | None = None
    entry_purpose: str | None = None


@dataclass
class PersonInput:
    doc_type: str
    doc_number: str
    full_name: str
    birth_date: date | None
    sex: str | None = None
    nationality: str = "VNM"
    address: str | None = None
    old_id_number: str | None = None
    id_issue_date: date | None = None
    card_extra: list[str] | None = None
    foreign: ForeignInput | None = None  # a foreign national's stay details (nationality other than VNM)

    @classmethod
    def from_document(cls, card: CardData | MrzData) -> PersonInput:
        """What a document read by asm/idcard/reader.py (the QR of a chip ID card, or a machine-readable zone)
        says about its holder. Raises MrzError for a zone that is no identity here (a visa, another state's ID
        card)."""
        if isinstance(card, MrzData):
            return cls.from_mrz(card)
        return cls(
            doc_type="cccd",
            doc_number=card.id_number,
            full_name=card.full_name,
            birth_date=card.birth_date,
            sex=card.sex,
            address=card.address,
            old_id_number=card.old_id_number,
            id_issue_date=card.issue_date,
            card_extra=list(card.extra_fields) or None,
        )

    @classmethod
    def from_mrz(cls, mrz: MrzData) -> PersonInput:
        """A passport (any state's, Viet Nam's too) is a passport; a Vietnamese ID card's zone gives its 12-digit
        personal number (a citizen, as from its QR, without the address); a visa or another state's ID card is
        refused (the stay is declared with the passport used to enter)."""
        if mrz.doc_type == "visa":
            raise MrzError("mrz_not_identity", "document_code")
        if mrz.document_code.startswith("P"):
            return cls(
                doc_type=DocType.PASSPORT,
                doc_number=mrz.document_number,
                full_name=mrz.full_name,
                birth_date=mrz.birth_date,
                sex=mrz.sex,
                nationality=mrz.nationality,
                foreign=ForeignInput(passport_expiry=mrz.expiry) if mrz.nationality != "VNM" else None,
            )
        if mrz.issuing_state == "VNM" and mrz.id_number:
            return cls(
                doc_type=DocType.CCCD,
                doc_number=mrz.id_number,
                full_name=mrz.full_name,
                birth_date=mrz.birth_date,
                sex=mrz.sex,
            )
        raise MrzError("mrz_not_travel_document", "document_code", value=mrz.issuing_state)


def validate_person(data: PersonInput, errors: ValidationError, prefix: str, today: date) -> None:
    """Check and normalise one person's fields, adding messages to `errors` under `prefix` (e.g. `guests.0.`).

    Every channel that writes a person calls this (desk, kiosk, API, hospital desk and events, CLI, demo). The
    name and the address follow the QR parser's rules (`asm.text.person_name`, `asm.text.address`): Latin
    letters only in names, no control, bidi or zero-width characters, no emoji, no formula leader; NFC, single
    spaces. Names are title-cased as on the card, except a passport's, which keeps its own capitals.
    """
    # CCCD and CMND are Vietnamese documents; a passport must say whose it is (normalize_document requires it).
    data.nationality = (data.nationality or "").strip().upper() or ("" if data.doc_type == DocType.PASSPORT else "VNM")
    if data.doc_type not in tuple(DocType):
        errors.add(prefix + "doc_type", _l("Loại giấy tờ không hợp lệ."), "doc_type_invalid")
        return
    try:
        data.doc_number = normalize_document(data.doc_type, data.doc_number or "", data.nationality)
    except CardError as exc:
        errors.add(prefix + input_field(exc), exc.message(_locale()), exc.code)
    try:
        data.full_name = rules.person_name(data.full_name, title=data.doc_type != DocType.PASSPORT)
    except rules.TextError as exc:
        errors.refuse(prefix + "full_name", exc)
    if data.address:
        try:
            data.address = rules.address(data.address) or None
        except rules.TextError as exc:
            errors.refuse(prefix + "address", exc)
    if data.old_id_number:
        try:
            check_old_id(data.old_id_number)
        except CardError as exc:
            errors.add(prefix + "old_id_number", exc.message(_locale()), exc.code)
    for extra in data.card_extra or []:
        try:
            rules.free_text(extra, max_length=CARD_EXTRA_MAX)
        except rules.TextError as exc:
            errors.refuse(prefix + "card_extra", exc)
            break
    if data.birth_date is None:
        errors.add(prefix + "birth_date", _l("Cần nhập ngày sinh."), "birth_date_missing")
    elif data.birth_date > today:
        errors.add(prefix + "birth_date", _l("Ngày sinh không thể ở tương lai."), "birth_date_future")
    if data.sex not in (None, "", "M", "F"):
        errors.add(prefix + "sex", _l("Giới tính phải là Nam hoặc Nữ."), "sex_invalid")
    data.sex = data.sex or None
    if data.doc_type == DocType.CCCD and data.birth_date and not errors.errors.get(prefix + "doc_number"):
        try:
            check_id_number(data.doc_number, birth_date=data.birth_date, sex=data.sex)
        except CardError as exc:
            errors.add(prefix + input_field(exc), exc.message(_locale()), exc.code)


def input_field(exc: CardError) -> str:
    """The PersonInput field a CardError is about: its own name (`id_number`, `document_number`) is the QR's."""
    return exc.field if exc.field in ("nationality", "birth_date", "sex") else "doc_number"


def _locale() -> str:
    from asm.web.i18n import current_locale

    return current_locale()


def find_person(doc_type: str, doc_number: str, nationality: str = "VNM") -> Person | None:
    return db.session.scalar(
        select(Person).where(
            Person.doc_type == doc_type, Person.doc_number == doc_number, Person.nationality == nationality
        )
    )


def record_person(data: PersonInput) -> Person:
    """The person with this document, created or brought up to date with what was just confirmed."""
    person = find_person(data.doc_type, data.doc_number, data.nationality)
    if person is None:
        person = Person(doc_type=data.doc_type, doc_number=data.doc_number, nationality=data.nationality)
        db.session.add(person)
    person.full_name = data.full_name
    person.birth_date = data.birth_date  # type: ignore[assignment]
    person.sex = data.sex
    if data.address:
        person.address = data.address
    if data.old_id_number:
        person.old_id_number = data.old_id_number
    if data.id_issue_date:
        person.id_issue_date = data.id_issue_date
    if data.card_extra:
        person.card_extra = data.card_extra
    return person
