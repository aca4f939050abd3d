"""The summary table (XML1) of the health-insurance XML files a Vietnamese HIS already produces, into the
hospital's events. No Flask, no database. The columns read, their formats and which visit types are inpatient
stays are data: asm/hospital/his/data/qd130_xml1.json, with its source (QĐ 130/QĐ-BYT as amended by 4750 and 3176).

A file is either the submission envelope (GIAMDINHHS, whose FILEHOSO of type XML1 holds the table in base64) or
the table itself (TONG_HOP records, at the root or under any element). Each record of an inpatient visit type is
a unit: an `admission` at NGAY_VAO_NOI_TRU (else NGAY_VAO) to the first free bed of the department MA_KHOA, an
`identify` when it has the CCCD, and a `discharge` at NGAY_RA when the visit has ended. Their ids derive from
MA_LK, so a file read twice (or a later file restating the visit with its discharge) files only what is new.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from asm.clock import VN_TZ
from asm.hospital.events import EventInput, body_hash
from asm.hospital.his.matching import Location, PersonFacts, match_person
from asm.people.models import DocType
from asm.people.services import PersonInput

MAPPING_FILE = Path(__file__).parent / "data" / "qd130_xml1.json"


@cache
def mapping() -> dict[str, Any]:
    return json.loads(MAPPING_FILE.read_text(encoding="utf-8"))


class XmlInvalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Record:
    raw: str  # the TONG_HOP element as text (kept for the operations page and replay)
    values: dict[str, str]

    @property
    def visit(self) -> str:
        return self.values.get(mapping()["fields"]["visit_key"], "")

    @property
    def key(self) -> str:
        return f"{self.visit[:60]}:{hashlib.sha256(self.raw.encode()).hexdigest()[:16]}"


@dataclass
class Unit:
    events: list[EventInput] = field(default_factory=list)
    ignored: str = ""
    refusal: tuple[str, str] | None = None
    kind: str = "XML1"


def parse(data: bytes) -> ET.Element:
    head = data[:4096].upper()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data.upper():
        raise XmlInvalid("XML with a DOCTYPE or entities is refused")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise XmlInvalid(f"Not well-formed XML: {exc}") from None


def records(data: bytes) -> list[Record]:
    """Every summary record of a file (envelope or bare table). Raises XmlInvalid."""
    m = mapping()
    root = parse(data)
    env = m["envelope"]
    tables: list[ET.Element] = []
    if root.tag == env["root"]:
        for item in root.iter(env["file"]):
            if (item.findtext(env["file_type"]) or "").strip().upper() != env["summary_type"]:
                continue
            content = (item.findtext(env["file_content"]) or "").strip()
            try:
                tables.append(parse(base64.b64decode(content, validate=False)))
            except (binascii.Error, ValueError):
                raise XmlInvalid(f"{env['file_content']} of {env['summary_type']} is not base64") from None
    else:
        tables.append(root)
    out = []
    for table in tables:
        found = [table] if table.tag == m["record"] else list(table.iter(m["record"]))
        for element in found:
            values = {child.tag: (child.text or "").strip() for child in element}
            out.append(Record(raw=ET.tostring(element, encoding="unicode"), values=values))
    if not out:
        raise XmlInvalid(f"No {m['record']} record ({env['summary_type']}) in the file")
    return out


def record_from_raw(raw: str) -> Record:
    """A kept record read again (the operations page's replay)."""
    [record] = records(raw.encode("utf-8"))
    return record


def when(value: str, name: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    fmt = mapping()["formats"]["datetime"] if len(value) >= 12 else mapping()["formats"]["date"]
    try:
        return datetime.strptime(value[:12] if len(value) >= 12 else value[:8], fmt).replace(tzinfo=VN_TZ)
    except ValueError:
        raise XmlInvalid(f"{name}: not a date {value!r}") from None


def unit_of(record: Record) -> Unit:
    m = mapping()
    f = m["fields"]
    v = record.values
    visit_type = v.get(f["visit_type"], "").strip()
    unit = Unit(kind=f"XML1 {visit_type or '?'}")
    if not record.visit:
        unit.refusal = ("visit_key_missing", f"{f['visit_key']} is required")
        return unit
    if visit_type not in m["inpatient_visit_types"]:
        unit.ignored = f"{f['visit_type']} {visit_type or '-'}: not an inpatient stay"
        return unit
    try:
        admitted = next((t for t in (when(v.get(n, ""), n) for n in f["admitted_at"]) if t), None)
        discharged = when(v.get(f["discharged_at"], ""), f["discharged_at"])
        born = when(v.get(f["birth_date"], ""), f["birth_date"])
    except XmlInvalid as exc:
        unit.refusal = ("datetime_invalid", exc.message)
        return unit
    if admitted is None:
        unit.refusal = ("admission_time_missing", f"{' or '.join(f['admitted_at'])} is required")
        return unit
    wards = [w.strip() for w in v.get(f["ward"], "").split(m["ward_separator"]) if w.strip()]
    facts = PersonFacts(
        cccd=v.get(f["cccd"], ""),
        record_no=v.get(f["record_no"], ""),
        full_name=v.get(f["full_name"], ""),
        birth_date=born.date() if isinstance(born, datetime) else born if isinstance(born, date) else None,
        sex=m["sex"].get(v.get(f["sex"], "").strip()),
        address=v.get(f["address"], "") or None,
    )
    matched = match_person(facts)
    patient = matched.person or PersonInput(
        doc_type=DocType.NONE, doc_number="", full_name=facts.full_name, birth_date=facts.birth_date, sex=facts.sex
    )
    visit = record.visit[:64]
    base = "xml:" + (visit if len(visit) <= 60 else hashlib.sha256(visit.encode()).hexdigest()[:40])
    where = Location(ward=wards[0] if wards else "")

    def event(kind: str, at: datetime, shape: dict[str, Any], **values: Any) -> EventInput:
        return EventInput(
            index=0,
            event_id=f"{base}:{kind}",
            type=kind,
            admission_id=visit,
            occurred_at=at,
            body_hash=body_hash({"type": kind, "admission_id": visit} | shape),
            **values,
        )

    unit.events.append(
        event(
            "admission",
            admitted,
            {"occurred_at": admitted.isoformat(), "ward": where.ward},
            patient=patient,
            record_no=matched.record_no[:16],
            ward=where.ward,
        )
    )
    if matched.person is not None:
        unit.events.append(event("identify", admitted, {}, patient=matched.person))
    if discharged is not None:
        unit.events.append(event("discharge", discharged, {"occurred_at": discharged.isoformat()}))
    return unit
