"""FHIR R4 Bundles of Patient, Encounter, Location and RelatedPerson into the hospital's events. No Flask.

Validated with fhir.resources (its R4B models: R4B changed nothing in these four resources or in Bundle since R4).
An Encounter is the state of one admission, and each Bundle restates it; so it becomes the events that state
implies, each with an id derived from the Encounter's identifier (the idempotency key) and what it says, and the
hospital's batch (asm/hospital/events.py) files only what it has not received yet:

- class `IMP`, `ACUTE` or `NONAC` only (inpatient; others are accepted and ignored); status `planned` ignored;
- status `arrived`, `triaged`, `in-progress`, `onleave`: `admission` to its first location at `period.start`
  (else that location's start), then a `transfer` to every later location at its `period.start`;
- status `finished`: the same, then `discharge` at `period.end`;
- status `cancelled`, `entered-in-error`: `cancel_admission`;
- a Patient with a CCCD: `identify` (files a provisional patient admitted earlier without one);
- a RelatedPerson of the Patient (`active` not false): `carer`, its relation from `relationship` (text, display,
  or the v3 RoleCode's Vietnamese word).

A location is a Location resource of the Bundle (by `fullUrl` or `Location/<id>`), or a logical reference by
identifier. Its code (identifier value, else name) is a bed label, a room or a ward by its `physicalType` (`bd`,
`ro`, `wa`; a bed when absent); `partOf` adds the room and ward above it. Matching: asm/hospital/his/matching.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.relatedperson import RelatedPerson
from pydantic import ValidationError as ModelError

from asm.clock import VN_TZ
from asm.hospital.events import EventInput, body_hash
from asm.hospital.his.matching import (
    DEFAULT_CCCD_SYSTEMS,
    Identifier,
    Location,
    PersonFacts,
    match_person,
    sex_code,
    vietnamese_name,
)
from asm.people.models import DocType
from asm.people.services import PersonInput

INPATIENT = ("IMP", "ACUTE", "NONAC")
ADMITTED = ("arrived", "triaged", "in-progress", "onleave", "finished")
CANCELLED = ("cancelled", "entered-in-error")
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
SUPPORTED = ("Patient", "Encounter", "Location", "RelatedPerson")
# v3 RoleCode (FHIR's RelatedPerson relationship codes) in the words of a carer's card.
RELATIONS = {
    "MTH": "Mẹ",
    "FTH": "Bố",
    "PRN": "Cha/mẹ",
    "SPS": "Vợ/chồng",
    "HUSB": "Chồng",
    "WIFE": "Vợ",
    "CHILD": "Con",
    "SON": "Con trai",
    "DAU": "Con gái",
    "SIB": "Anh/chị/em",
    "BRO": "Anh/em trai",
    "SIS": "Chị/em gái",
    "GRPRN": "Ông/bà",
    "GRNDCHILD": "Cháu",
    "FAMMEMB": "Người nhà",
    "FRND": "Bạn",
    "NBOR": "Hàng xóm",
    "GUARD": "Người giám hộ",
}


class BundleInvalid(Exception):
    """The body is not a valid FHIR R4 Bundle of what we accept (HTTP 400)."""

    def __init__(self, message: str, issues: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.issues = issues or [message]


@dataclass
class Unit:
    """One Encounter's events, with the entries they come from."""

    key: str
    entries: list[int]
    events: list[EventInput] = field(default_factory=list)
    ignored: str = ""
    refusal: tuple[str, str] | None = None  # (code, message): refused before filing


@dataclass
class Plan:
    type: str  # transaction | batch
    entries: list[dict[str, Any]]  # the raw entries, in order
    units: list[Unit]
    unused: dict[int, str] = field(default_factory=dict)  # entry index -> why it was not used


def digest(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:56]


def moment(value: Any) -> datetime | None:
    """A FHIR dateTime (already parsed by the model) as an aware datetime; Vietnam time when no offset."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=VN_TZ)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=VN_TZ)
    return None


def read(data: Any, cccd_systems: tuple[str, ...] = DEFAULT_CCCD_SYSTEMS) -> Plan:
    """The Bundle validated by the FHIR models, cut into one unit per Encounter. Raises BundleInvalid."""
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise BundleInvalid("A FHIR Bundle (resourceType Bundle) is expected")
    try:
        bundle = Bundle.model_validate(data)
    except ModelError as exc:
        issues = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:20]]
        raise BundleInvalid("The Bundle is not valid FHIR R4", issues) from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        # fhir.resources' own code fails on some malformed shapes instead of reporting them (found by the fuzz)
        raise BundleInvalid("The Bundle is not valid FHIR R4", [type(exc).__name__]) from None
    if bundle.type not in ("transaction", "batch"):
        raise BundleInvalid(f"Bundle.type {bundle.type!r}: transaction or batch expected")
    raw_entries = data.get("entry") or []
    entries = list(bundle.entry or [])
    if not entries:
        raise BundleInvalid("The Bundle has no entry")
    by_ref: dict[str, tuple[int, Any]] = {}
    unsupported: list[str] = []
    for i, entry in enumerate(entries):
        resource = entry.resource
        if resource is None:
            unsupported.append(f"entry {i}: no resource")
            continue
        kind = resource.get_resource_type()
        if kind not in SUPPORTED:
            unsupported.append(f"entry {i}: {kind} is not accepted (Patient, Encounter, Location, RelatedPerson)")
            continue
        if entry.fullUrl:
            by_ref[str(entry.fullUrl)] = (i, resource)
        if resource.id:
            by_ref[f"{kind}/{resource.id}"] = (i, resource)
    if unsupported and bundle.type == "transaction":
        raise BundleInvalid("The transaction has entries we do not accept", unsupported)
    plan = Plan(type=bundle.type, entries=raw_entries, units=[])
    for message in unsupported:
        plan.unused[int(message.split()[1].rstrip(":"))] = message
    used: set[int] = set()
    patients_units: dict[int, list[Unit]] = {}
    for i, entry in enumerate(entries):
        resource = entry.resource
        if resource is None or resource.get_resource_type() != "Encounter":
            continue
        unit = encounter_unit(i, resource, by_ref, cccd_systems)
        plan.units.append(unit)
        used |= set(unit.entries)
        patient_entry = next((e for e in unit.entries if e != i and kind_of(entries[e]) == "Patient"), None)
        if patient_entry is not None:
            patients_units.setdefault(patient_entry, []).append(unit)
    for i, entry in enumerate(entries):
        resource = entry.resource
        if not isinstance(resource, RelatedPerson):
            continue
        related = resource
        target = by_ref.get(str(related.patient.reference or "")) if related.patient else None
        units = [u for u in patients_units.get(target[0], []) if u.events and not u.refusal] if target else []
        if not units:
            plan.unused[i] = "RelatedPerson: its patient has no inpatient Encounter in this Bundle"
            continue
        unit = units[-1]
        unit.entries.append(i)
        used.add(i)
        if related.active is False:
            continue
        try:
            unit.events.append(carer_event(unit, related, i, cccd_systems))
        except BundleInvalid as exc:
            unit.refusal = ("carer_document_missing", exc.message)
    for i in range(len(entries)):
        if i not in used and i not in plan.unused:
            plan.unused[i] = "not referenced by an Encounter of this Bundle"
    return plan


def kind_of(entry: Any) -> str:
    return entry.resource.get_resource_type() if entry.resource is not None else ""


def identifiers(resource: Any) -> list[Identifier]:
    out = []
    for ident in resource.identifier or []:
        code = ""
        if ident.type is not None:
            for coding in ident.type.coding or []:
                if coding.code and (not coding.system or coding.system == V2_0203 or coding.code == "CCCD"):
                    code = coding.code
                    break
        out.append(Identifier(value=ident.value or "", type=code, system=str(ident.system or "")))
    return out


def person_facts(resource: Any) -> PersonFacts:
    name = ""
    for human in resource.name or []:
        if human.text:
            name = human.text
        else:
            given = list(human.given or [])
            # FHIR lists given names in order; Vietnamese puts the middle names before the last given name.
            name = vietnamese_name(human.family or "", given[-1] if given else "", " ".join(given[:-1]))
        if name:
            break
    address = None
    for addr in resource.address or []:
        address = addr.text or ", ".join(p for p in [*(addr.line or []), addr.district, addr.city] if p) or None
        if address:
            break
    return PersonFacts(
        identifiers=identifiers(resource),
        full_name=name,
        birth_date=resource.birthDate if isinstance(resource.birthDate, date) else None,
        sex=sex_code(resource.gender),
        address=address,
    )


def location_of(reference: Any, by_ref: dict[str, tuple[int, Any]], entries: list[int]) -> Location:
    """A Location reference as ward/room/bed codes (the module's rule)."""
    if reference is None:
        return Location()
    found = by_ref.get(str(reference.reference or ""))
    if found is None:
        value = reference.identifier.value if reference.identifier is not None else ""
        return Location(bed=value or "")
    parts = {"bd": "", "ro": "", "wa": ""}
    seen = 0
    while found is not None and seen < 4:
        index, resource = found
        entries.append(index)
        code = next((i.value for i in resource.identifier or [] if i.value), None) or resource.name or ""
        kind = "bd"
        if resource.physicalType is not None:
            kind = next((c.code for c in resource.physicalType.coding or [] if c.code in parts), kind)
        if not parts[kind]:
            parts[kind] = code
        found = by_ref.get(str(resource.partOf.reference or "")) if resource.partOf is not None else None
        seen += 1
    return Location(ward=parts["wa"], room=parts["ro"], bed=parts["bd"])


def encounter_unit(
    index: int, encounter: Any, by_ref: dict[str, tuple[int, Any]], cccd_systems: tuple[str, ...]
) -> Unit:
    key = next((i.value for i in encounter.identifier or [] if i.value), "")
    unit = Unit(key=key[:64], entries=[index])
    if not key:
        unit.refusal = ("encounter_identifier_missing", "Encounter.identifier (the admission's id) is required")
        return unit
    codes = [encounter.class_fhir.code] if encounter.class_fhir is not None else []
    if not any(c in INPATIENT for c in codes):
        unit.ignored = f"class {','.join(c or '' for c in codes) or '-'}: not an inpatient encounter"
        return unit
    if encounter.status not in ADMITTED + CANCELLED:
        unit.ignored = f"status {encounter.status}: no stay"
        return unit
    subject = by_ref.get(str(encounter.subject.reference or "")) if encounter.subject is not None else None
    if subject is None or subject[1].get_resource_type() != "Patient":
        unit.refusal = ("patient_missing", "Encounter.subject must reference a Patient of this Bundle")
        return unit
    unit.entries.append(subject[0])
    base = "fhir:" + (key if len(key) <= 60 else hashlib.sha256(key.encode()).hexdigest()[:40])

    def event(kind: str, at: datetime, suffix: str, shape: dict[str, Any], **values: Any) -> EventInput:
        return EventInput(
            index=0,
            event_id=f"{base}:{suffix}",
            type=kind,
            admission_id=unit.key,
            occurred_at=at,
            body_hash=body_hash({"type": kind, "admission_id": unit.key} | shape),
            **values,
        )

    if encounter.status in CANCELLED:
        at = moment(encounter.period.end if encounter.period else None) or datetime.now(VN_TZ)
        unit.events.append(event("cancel_admission", at, "cancel", {}))
        return unit
    history = []
    for place in encounter.location or []:
        if place.status == "planned":
            continue
        start = moment(place.period.start) if place.period is not None else None
        history.append((start, location_of(place.location, by_ref, unit.entries)))
    admitted_at = moment(encounter.period.start if encounter.period else None) or (history[0][0] if history else None)
    if admitted_at is None:
        unit.refusal = ("admission_time_missing", "Encounter.period.start (or its first location's start) is required")
        return unit
    if not history:
        unit.refusal = ("location_missing", "Encounter.location is required (the bed or ward)")
        return unit
    history.sort(key=lambda h: h[0] or admitted_at)
    facts = person_facts(subject[1])
    matched = match_person(facts, cccd_systems)
    if matched.person is not None:
        patient = matched.person
        record_no = matched.record_no
    else:
        patient = PersonInput(
            doc_type=DocType.NONE, doc_number="", full_name=facts.full_name, birth_date=facts.birth_date, sex=facts.sex
        )
        record_no = matched.record_no
    where = history[0][1]
    shape = {"occurred_at": admitted_at.isoformat(), "location": str(where)}
    unit.events.append(
        event(
            "admission",
            admitted_at,
            "admission",
            shape,
            patient=patient,
            record_no=record_no[:16],
            bed=where.bed,
            ward=where.ward,
            room=where.room,
        )
    )
    for start, place in history[1:]:
        at = start or admitted_at
        unit.events.append(
            event(
                "transfer",
                at,
                f"move:{at.isoformat()}",
                {"location": str(place)},
                bed=place.bed,
                ward=place.ward,
                room=place.room,
            )
        )
    if matched.person is not None:
        unit.events.append(event("identify", admitted_at, "identify", {}, patient=matched.person))
    if encounter.status == "finished":
        end = moment(encounter.period.end if encounter.period else None)
        if end is None:
            unit.refusal = ("discharge_time_missing", "A finished Encounter needs period.end")
            return unit
        unit.events.append(event("discharge", end, "discharge", {"occurred_at": end.isoformat()}))
    return unit


def carer_event(unit: Unit, resource: Any, index: int, cccd_systems: tuple[str, ...]) -> EventInput:
    facts = person_facts(resource)
    matched = match_person(facts, cccd_systems)
    if matched.person is None:
        raise BundleInvalid(f"RelatedPerson (entry {index}): a carer needs the CCCD identifier")
    relation = ""
    for concept in resource.relationship or []:
        relation = concept.text or ""
        for coding in concept.coding or []:
            relation = relation or coding.display or RELATIONS.get(coding.code or "", coding.code or "")
        if relation:
            break
    admission = unit.events[0]
    start = moment(resource.period.start) if resource.period is not None else None
    at = max(start or admission.occurred_at, admission.occurred_at)
    number = matched.person.doc_number
    return EventInput(
        index=0,
        event_id=f"{admission.event_id.rsplit(':', 1)[0]}:carer:{number}",
        type="carer",
        admission_id=unit.key,
        occurred_at=at,
        body_hash=body_hash({"type": "carer", "admission_id": unit.key, "carer": number}),
        patient=matched.person,
        relation=relation or "Người nhà",
    )


# --- answers ------------------------------------------------------------------------------------------------


def outcome(severity: str, code: str, messages: list[str], details: str = "") -> dict[str, Any]:
    """An OperationOutcome (its issue codes are FHIR's IssueType; ours go in details.text)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": severity, "code": code, "diagnostics": m[:1000]}
            | ({"details": {"text": details}} if details else {})
            for m in messages
        ],
    }


def response_bundle(kind: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    answer = {"resourceType": "Bundle", "type": f"{kind}-response", "entry": entries}
    Bundle.model_validate(answer)  # what we answer is valid FHIR too
    return answer


def capability_statement(base_url: str, software_version: str) -> dict[str, Any]:
    from fhir.resources.R4B.capabilitystatement import CapabilityStatement

    doc = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-01",
        "kind": "instance",
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "application/json"],
        "software": {"name": "ASM", "version": software_version},
        "implementation": {
            "description": "Stay notification for hospitals: inpatients and their carers (docs/HOSPITAL.md)",
            "url": base_url,
        },
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "POST a transaction or batch Bundle to the base URL with the hospital's bearer token. An inpatient "
                    "Encounter (class IMP, ACUTE, NONAC) is an admission keyed by its identifier; its location history "
                    "gives the transfers, status finished the discharge (period.end), cancelled or entered-in-error a "
                    "cancellation. A Patient is matched by a CCCD identifier (type v2-0203 NI, or system urn:vn:cccd), "
                    "else provisionally by its record number (type MR). A Location's identifier value or name is a "
                    "bed label, room or ward code by physicalType (bd, ro, wa). RelatedPerson of the Patient: a carer "
                    "staying overnight. Resending a Bundle files only what is new."
                ),
                "security": {"description": "Bearer token of the hospital (flask tokens create --establishment CODE)"},
                "resource": [
                    {"type": "Patient", "documentation": "name, birthDate, gender, address, identifier (CCCD, MR)"},
                    {"type": "Encounter", "documentation": "identifier, status, class, subject, period, location"},
                    {"type": "Location", "documentation": "identifier or name, physicalType, partOf"},
                    {"type": "RelatedPerson", "documentation": "patient, identifier (CCCD), name, relationship"},
                ],
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
            }
        ],
    }
    CapabilityStatement.model_validate(doc)
    return doc
