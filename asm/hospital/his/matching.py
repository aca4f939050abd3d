"""Matching, stated once for every channel (HL7 v2, FHIR, insurance XML). Pure: no Flask, no database.

A person is matched by the CCCD number where the message carries one, else by the hospital's record number:

- HL7 v2: a PID-3 repetition whose identifier type code (CX-5) is `NI` or `CCCD`, else PID-19 (which the HL7
  standard names the SSN and Vietnamese HIS fill with the CCCD); the record number is the PID-3 repetition typed
  `MR` (medical record), `PI` or `PT`, else the first one.
- FHIR: a Patient identifier typed v2-0203 `NI` (or `CCCD`), or one whose `system` is a CCCD system the hospital
  documents (`HIS_FHIR_CCCD_SYSTEMS`; `urn:vn:cccd` by default); the record number is the identifier typed `MR`.
- Insurance XML: `SO_CCCD`; the record number is `MA_BN` (the patient code).

A 12-digit number is a CCCD (the personal identification number), a 9-digit one an old CMND. With neither, the
patient is a provisional identity under the hospital's record number (asm.hospital.filing.provisional_person):
admitted as a draft, filed once a later message (an A08, a new Bundle) brings the CCCD.

A location names a bed, or only a ward (and room): `Location(ward, room, bed)`. The bed is the bed label the
hospital gave it (unique in the hospital); a ward or room given beside it must be the bed's own. Without a bed
(an insurance XML names only the department), the patient takes the first free bed of the ward (and room), by
label. An unknown code is refused with the code (`bed_unknown`, `location_unknown`, `location_mismatch`);
a ward with no free bed is `ward_full`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, TypeVar

from asm.people.services import PersonInput

CCCD_TYPES = frozenset({"NI", "CCCD"})
RECORD_TYPES = ("MR", "PI", "PT")
DEFAULT_CCCD_SYSTEMS = ("urn:vn:cccd",)
DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Identifier:
    value: str
    type: str = ""  # the identifier type code (HL7 table 0203: NI, MR, PPN...)
    system: str = ""  # FHIR system, or the HL7 assigning authority


@dataclass
class PersonFacts:
    """What a message says about a person, in every channel's terms."""

    identifiers: list[Identifier] = field(default_factory=list)
    cccd: str = ""  # a field that holds only the CCCD: HL7 PID-19, XML SO_CCCD
    record_no: str = ""  # the hospital's own number for the patient when no identifier says it
    full_name: str = ""
    birth_date: date | None = None
    sex: str | None = None  # M, F or None
    address: str | None = None


@dataclass(frozen=True)
class Matched:
    person: PersonInput | None  # with a document; None: a provisional identity under `record_no`
    record_no: str
    by: str  # "cccd" | "record_no"


def document_number(value: str) -> tuple[str, str] | None:
    """(doc_type, number) of an ID number as a message writes it (spaces, dots tolerated)."""
    digits = "".join(DIGITS.findall(value or ""))
    if len(digits) == 12:
        return "cccd", digits
    if len(digits) == 9:
        return "cmnd", digits
    return None


def cccd_of(facts: PersonFacts, cccd_systems: Iterable[str] = DEFAULT_CCCD_SYSTEMS) -> str:
    systems = {s.strip().lower() for s in cccd_systems}
    for ident in facts.identifiers:
        if ident.value.strip() and (ident.type.upper() in CCCD_TYPES or ident.system.strip().lower() in systems):
            return ident.value.strip()
    return facts.cccd.strip()


def record_no_of(facts: PersonFacts) -> str:
    for wanted in RECORD_TYPES:
        for ident in facts.identifiers:
            if ident.type.upper() == wanted and ident.value.strip():
                return ident.value.strip()
    if facts.record_no.strip():
        return facts.record_no.strip()
    others = [i for i in facts.identifiers if i.value.strip() and i.type.upper() not in CCCD_TYPES]
    return others[0].value.strip() if others else ""


def match_person(facts: PersonFacts, cccd_systems: Iterable[str] = DEFAULT_CCCD_SYSTEMS) -> Matched:
    """The person of a message: by CCCD where it has one, else a provisional identity by record number. A number
    given as the CCCD that is neither 12 nor 9 digits is kept as written, for the core's check to refuse it."""
    record_no = record_no_of(facts)
    number = cccd_of(facts, cccd_systems)
    if number:
        doc = document_number(number) or ("cccd", number)
        person = PersonInput(
            doc_type=doc[0],
            doc_number=doc[1],
            full_name=facts.full_name,
            birth_date=facts.birth_date,
            sex=facts.sex,
            address=facts.address or None,
        )
        return Matched(person=person, record_no=record_no, by="cccd")
    return Matched(person=None, record_no=record_no, by="record_no")


def vietnamese_name(family: str, given: str, middle: str = "") -> str:
    """HL7 XPN / FHIR HumanName parts in Vietnamese order: family, middle, given ("Trần Văn Nam")."""
    return " ".join(p for p in (family.strip(), middle.strip(), given.strip()) if p)


def sex_code(value: str | None) -> str | None:
    """HL7 table 0001 (M, F, O, U, A, N), FHIR gender (male, female, other, unknown), XML GIOI_TINH (1, 2, 3)."""
    v = (value or "").strip().lower()
    if v in ("m", "male", "1", "nam"):
        return "M"
    if v in ("f", "female", "2", "nữ", "nu"):
        return "F"
    return None


# --- locations ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """A place as a message names it: ward (department) code, room, bed label; any may be empty."""

    ward: str = ""
    room: str = ""
    bed: str = ""

    def __str__(self) -> str:
        return "^".join((self.ward, self.room, self.bed)).rstrip("^") or "-"

    def __bool__(self) -> bool:
        return bool(self.ward or self.room or self.bed)


class BedPlace(Protocol):
    """A bed as matching sees it (asm.hospital.filing.BedRef)."""

    @property
    def label(self) -> str: ...
    @property
    def room_name(self) -> str: ...
    @property
    def ward_code(self) -> str: ...
    @property
    def active(self) -> bool: ...


B = TypeVar("B", bound=BedPlace)


class LocationError(Exception):
    def __init__(self, code: str, location: Location, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.location = location
        self.message = message


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def match_location(
    beds: Sequence[B], where: Location, is_free: Callable[[B], bool], *, index: Mapping[str, B] | None = None
) -> B:
    """The bed a location names (see the module's rule); raises LocationError with the code at fault. `index`:
    the active beds by label, trimmed and case-folded, when the caller matches many locations against the same beds
    (a batch of 1,000 admissions would otherwise compare every label with every bed)."""
    if where.bed:
        if index is not None:
            bed = index.get(where.bed.strip().casefold())
        else:
            bed = next((b for b in beds if b.active and _same(b.label, where.bed)), None)
        if bed is None:
            raise LocationError("bed_unknown", where, f"No such bed at this hospital: {where}")
        if (where.ward and not _same(bed.ward_code, where.ward)) or (
            where.room and not _same(bed.room_name, where.room)
        ):
            raise LocationError(
                "location_mismatch", where, f"Bed {bed.label} is in {bed.ward_code}^{bed.room_name}, not {where}"
            )
        return bed
    if not where.ward and not where.room:
        raise LocationError("location_missing", where, "No location: a bed label or a ward code is required")
    inside = [
        b
        for b in beds
        if b.active
        and (not where.ward or _same(b.ward_code, where.ward))
        and (not where.room or _same(b.room_name, where.room))
    ]
    if not inside:
        raise LocationError("location_unknown", where, f"No such ward or room at this hospital: {where}")
    for bed in sorted(inside, key=lambda b: b.label):
        if is_free(bed):
            return bed
    raise LocationError("ward_full", where, f"No free bed in {where}")
