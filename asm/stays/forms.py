"""Reading the check-in form (a variable list of guests) into service input."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from werkzeug.datastructures import MultiDict

from asm.clock import in_supported_range, parse_local_datetime
from asm.people.models import Person
from asm.people.services import ForeignInput, PersonInput

GUEST_FIELD = re.compile(r"^guests-(?P<key>[a-z0-9]{1,16})-(?P<name>[a-z_]+)$")
PERSON_FIELDS = (
    "doc_type",
    "doc_number",
    "nationality",
    "full_name",
    "birth_date",
    "sex",
    "address",
    "old_id_number",
    "id_issue_date",
    "card_extra",
)
# A foreign guest's entry and visa details (asm/foreigners): shown in the block when the nationality is not VNM.
FOREIGN_FIELDS = ("passport_expiry", "visa_type", "visa_number", "entry_date", "entry_port", "entry_purpose")


@dataclass
class GuestForm:
    """One guest block of the form, as the clerk sees it (strings), with its own error messages."""

    key: str = field(default_factory=lambda: secrets.token_hex(4))
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    scanned: bool = False
    returning: bool = False

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    @classmethod
    def from_scan(cls, person: PersonInput) -> GuestForm:
        """A block filled from a document read by the scanner or camera (asm/people/documents.py)."""
        return cls(
            values={
                "doc_type": person.doc_type,
                "doc_number": person.doc_number,
                "nationality": person.nationality,
                "full_name": person.full_name,
                "birth_date": person.birth_date.isoformat() if person.birth_date else "",
                "sex": person.sex or "",
                "address": person.address or "",
                "old_id_number": person.old_id_number or "",
                "id_issue_date": person.id_issue_date.isoformat() if person.id_issue_date else "",
                "card_extra": "|".join(person.card_extra or ()),
            }
            | foreign_values(person.foreign),
            scanned=True,
        )

    @classmethod
    def from_person(cls, person: Person, key: str | None = None) -> GuestForm:
        form = cls(
            values={
                "doc_type": person.doc_type,
                "doc_number": person.doc_number,
                "nationality": person.nationality,
                "full_name": person.full_name,
                "birth_date": person.birth_date.isoformat(),
                "sex": person.sex or "",
                "address": person.address or "",
                "old_id_number": person.old_id_number or "",
                "id_issue_date": person.id_issue_date.isoformat() if person.id_issue_date else "",
            },
            returning=True,
        )
        if key:
            form.key = key
        return form

    @property
    def is_foreign(self) -> bool:
        return (self.get("nationality", "VNM") or "VNM").strip().upper() != "VNM"

    def to_input(self) -> PersonInput:
        extra = self.get("card_extra")
        foreign = None
        if self.is_foreign:
            foreign = ForeignInput(
                passport_expiry=parse_date(self.get("passport_expiry")),
                visa_type=self.get("visa_type") or None,
                visa_number=self.get("visa_number") or None,
                entry_date=parse_date(self.get("entry_date")),
                entry_port=self.get("entry_port") or None,
                entry_purpose=self.get("entry_purpose") or None,
            )
        return PersonInput(
            doc_type=self.get("doc_type", "cccd"),
            doc_number=self.get("doc_number"),
            nationality=self.get("nationality", "VNM") or "VNM",
            full_name=self.get("full_name"),
            birth_date=parse_date(self.get("birth_date")),
            sex=self.get("sex") or None,
            address=self.get("address") or None,
            old_id_number=self.get("old_id_number") or None,
            id_issue_date=parse_date(self.get("id_issue_date")),
            card_extra=extra.split("|") if extra else None,
            foreign=foreign,
        )


def foreign_values(details: ForeignInput | None) -> dict[str, str]:
    """A foreign guest's details as the block's strings (empty when not given)."""
    if details is None:
        return {}
    values = {}
    for name in FOREIGN_FIELDS:
        value = getattr(details, name)
        values[name] = value.isoformat() if isinstance(value, date) else (value or "")
    return values


def guests_from_form(form: MultiDict[str, str]) -> list[GuestForm]:
    """Guest blocks in the order the page shows them (form order), keyed by their random block key."""
    guests: dict[str, GuestForm] = {}
    for name, value in form.items(multi=True):
        match = GUEST_FIELD.match(name)
        if match and match["name"] in PERSON_FIELDS + FOREIGN_FIELDS:
            guest = guests.setdefault(match["key"], GuestForm(key=match["key"]))
            guest.values[match["name"]] = value.strip()
            if match["name"] == "card_extra" or form.get(f"guests-{match['key']}-scanned"):
                guest.scanned = True
    return list(guests.values())


def parse_date(text: str) -> date | None:
    """ISO (from <input type=date>) or dd/mm/yyyy typed by hand; None for anything else, or outside the years
    the app supports (asm.clock.MIN_YEAR..MAX_YEAR)."""
    text = (text or "").strip()
    if not text:
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            value = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return value if in_supported_range(value) else None
    return None


def parse_arrival(text: str, default: datetime) -> datetime | None:
    text = (text or "").strip()
    if not text:
        return default
    try:
        return parse_local_datetime(text)
    except ValueError:
        return None
