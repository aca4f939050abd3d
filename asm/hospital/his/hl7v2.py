"""HL7 v2 ADT messages (versions 2.3 to 2.8) into the hospital's events, and their acknowledgements. Pure: no Flask,
no database. Parsed with python-hl7 (`hl7`: README, "Dependencies", says why).

Which message does what (docs/HOSPITAL.md, "HL7 v2 over MLLP"):

| Trigger | Event of the batch |
|---|---|
| A01 admit | `admission` to PV1-3 (ward^room^bed), at PV1-44 (else EVN-6, EVN-2, MSH-7); NK1 carers (below) |
| A02 transfer | `transfer` to PV1-3 at EVN-6 (else EVN-2, MSH-7) |
| A03 discharge | `discharge` at PV1-45 (else EVN-6, EVN-2, MSH-7), with the carers |
| A08 update | `identify` when PID now carries the CCCD of a provisional patient; NK1 carers |
| A11 cancel admit | `cancel_admission` |
| A12 cancel transfer | `transfer` back to PV1-3 (the location before the transfer, as the standard says) |
| A13 cancel discharge | `cancel_discharge`, back to PV1-3 (else the last bed) |
| A04, A05, A14 | accepted (`AA`) and ignored: a registration or a pre-admission is no stay |

The admission is PV1-19 (visit number), else PID-18 (account number). Only inpatients make stays: a patient
class (PV1-2) other than `I` (inpatient) or `B` (obstetrics) is accepted and ignored. The person and the location
are matched by asm/hospital/his/matching.py. A carer is an NK1 segment whose contact role (NK1-7, user-defined
table 0131) is `CG` (caregiver staying with the patient): NK1-2 name, NK1-3 relationship (code^text), NK1-8 start,
NK1-15 sex, NK1-16 birth date, NK1-33 identifiers (typed `NI`/`CCCD`) or NK1-37 for the CCCD. Other NK1 (next of
kin who do not stay) are not read. Times without an offset are Vietnam's local time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import hl7
from hl7.exceptions import HL7Exception
from hl7.util import unescape

from asm.clock import VN_TZ, utcnow
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

VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2")
FILED = ("A01", "A02", "A03", "A08", "A11", "A12", "A13")
IGNORED = ("A04", "A05", "A14")
INPATIENT_CLASSES = ("I", "B", "")
CARER_ROLE = "CG"
# HL7 table 0063 (relationship) in the words of a carer's card.
RELATIONS = {
    "SPO": "Vợ/chồng",
    "CHD": "Con",
    "PAR": "Cha/mẹ",
    "MTH": "Mẹ",
    "FTH": "Bố",
    "SIB": "Anh/chị/em",
    "BRO": "Anh/em trai",
    "SIS": "Chị/em gái",
    "GRD": "Người giám hộ",
    "GRP": "Ông/bà",
    "GCH": "Cháu",
    "FND": "Bạn",
    "EXF": "Người thân",
    "OTH": "Khác",
}


@dataclass
class Refusal(Exception):
    """Why a message is answered AE (understood, refused) or AR (not understood)."""

    ack: str  # AE | AR
    code: str  # our code: bed_unknown, version_unsupported...
    message: str
    hl7_code: str = "207"  # HL7 table 0357: 100 segment, 101 required field, 102 data type, 200-203 unsupported
    where: str = ""  # error location: "PID^1^3"

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass
class Translation:
    """One message as the listener needs it."""

    control_id: str
    kind: str  # "ADT^A01"
    version: str
    message: hl7.Message | None
    events: list[EventInput] = field(default_factory=list)
    ignored: str = ""  # why nothing is filed (accepted all the same)
    refusal: Refusal | None = None
    accepted: str = ""  # its AA acknowledgement, made in advance (the MLLP listener, as the message arrives)

    @property
    def key(self) -> str:
        return self.control_id


def text_of(raw: bytes) -> str:
    """An MLLP block as text: UTF-8 (Vietnamese names), segments separated by CR whatever the sender used."""
    text = raw.decode("utf-8")
    return text.replace("\r\n", "\r").replace("\n", "\r").strip("\r")


def digest(raw: str) -> str:
    return "raw:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


class Reader:
    """Safe access to the parsed message: a missing segment, field, repetition or component reads as ''. The
    segments are indexed by name once (python-hl7's `Message.extract_field` scans them all on every call)."""

    def __init__(self, message: hl7.Message) -> None:
        self.m = message
        self.segments: dict[str, list[hl7.Segment]] = {}
        for segment in message:
            self.segments.setdefault(str(segment[0][0]), []).append(segment)

    def has(self, segment: str) -> bool:
        return segment in self.segments

    def get(self, segment: str, fld: int, rep: int = 1, comp: int = 1, seg_no: int = 1) -> str:
        """`Segment.extract_field(seg_no, fld, rep, comp)` of python-hl7 (its rules: a path deeper than the tree
        reads the leaf reached when the rest is at position 1, else ''), walked directly on the parsed lists: the
        library's accessors cost most of a message's reading."""
        seg = self._segment(segment, seg_no)
        if seg is None or fld >= len(seg):
            return ""
        field = list.__getitem__(seg, fld)
        if not 1 <= rep <= len(field):
            return ""
        node = list.__getitem__(field, rep - 1)
        if not isinstance(node, hl7.Repetition):  # a leaf: only its first component
            if comp != 1:
                return ""
            value = node if segment == "MSH" and fld in (1, 2) else unescape(seg, node)
        elif comp > len(node):
            return ""
        else:
            component = list.__getitem__(node, comp - 1)
            if isinstance(component, hl7.Component):
                component = list.__getitem__(component, 0) if len(component) else ""
            value = unescape(seg, component)
        return self.m.unescape(str(value)).strip() if value else ""

    def _segment(self, segment: str, seg_no: int) -> hl7.Segment | None:
        found = self.segments.get(segment)
        index = seg_no - 1 if seg_no >= 1 else seg_no  # python-hl7's 1-based call (0: the first)
        return found[index] if found and -len(found) <= index < len(found) else None

    def count(self, segment: str) -> int:
        return len(self.segments.get(segment, ()))

    def repetitions(self, segment: str, fld: int, seg_no: int = 1) -> int:
        """How many repetitions a field has (a field absent reads as one empty repetition, as in python-hl7)."""
        seg = self._segment(segment, seg_no)
        if seg is None:
            return 0
        if fld >= len(seg):
            return 1
        return min(len(list.__getitem__(seg, fld)), 20)


def parse_ts(value: str, where: str) -> datetime | None:
    """An HL7 DTM (YYYY[MM[DD[HH[MM[SS[.S]]]]]][+/-ZZZZ]); local (Vietnam) time when it has no offset."""
    if not value:
        return None
    try:
        moment = hl7.parse_datetime(value)
    except ValueError:
        raise Refusal("AE", "datetime_invalid", f"{where}: not an HL7 date/time: {value!r}", "102", where) from None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    return moment


def parse_date(value: str, where: str) -> date | None:
    moment = parse_ts(value, where)
    return moment.date() if moment is not None else None


READ = frozenset({"MSH", "EVN", "PID", "PV1", "NK1"})  # the segments a translation reads


def parse_read(raw: str) -> hl7.Message:
    """The message parsed with the segments the translation reads only. python-hl7 builds every segment it is
    given, and a HIS's ADT message also carries PD1, PV2, OBX, AL1, DG1, IN1, GT1, Z-segments…, often several times
    the work of the five read (the whole text is still what is kept and shown). Text that does not start with MSH
    is parsed whole, so the library says why it is not HL7."""
    if not raw.startswith("MSH"):
        return hl7.parse(raw)
    return hl7.parse("\r".join(line for line in raw.split("\r") if line[:3] in READ))


def translate(raw: str, *, establishment_id: int, cccd_systems: tuple[str, ...] = DEFAULT_CCCD_SYSTEMS) -> Translation:
    """An HL7 v2 message as events of the hospital's batch, or why not (`refusal`; `ignored`)."""
    try:
        message = parse_read(raw)
        r = Reader(message)
        control_id = r.get("MSH", 10)
        kind_code, trigger = r.get("MSH", 9, 1, 1), r.get("MSH", 9, 1, 2)
        version = r.get("MSH", 12)
    except (HL7Exception, KeyError, IndexError, ValueError) as exc:
        return Translation(
            control_id="",
            kind="?",
            version="",
            message=None,
            refusal=Refusal("AR", "not_hl7", f"Not an HL7 v2 message: {exc}", "100", "MSH"),
        )
    out = Translation(control_id=control_id, kind=f"{kind_code}^{trigger}", version=version, message=message)
    try:
        if not control_id:
            raise Refusal("AR", "control_id_missing", "MSH-10 (message control ID) is required", "101", "MSH^1^10")
        if version not in VERSIONS:
            raise Refusal(
                "AR", "version_unsupported", f"HL7 version {version!r}: 2.3 to 2.8 accepted", "203", "MSH^1^12"
            )
        if kind_code != "ADT":
            raise Refusal("AR", "message_type_unsupported", f"Message type {kind_code!r}: ADT only", "200", "MSH^1^9")
        if trigger in IGNORED:
            out.ignored = f"{trigger}: no stay"
            return out
        if trigger not in FILED:
            raise Refusal("AR", "event_unsupported", f"Trigger event {trigger!r} is not handled", "201", "MSH^1^9")
        out.events = events_of(r, trigger, control_id, establishment_id, cccd_systems)
        if not out.events:
            out.ignored = f"{trigger}: nothing to file"
    except Refusal as refusal:
        out.refusal = refusal
    return out


def events_of(
    r: Reader, trigger: str, control_id: str, establishment_id: int, cccd_systems: tuple[str, ...]
) -> list[EventInput]:
    for segment in ("PID", "PV1"):
        if not r.has(segment):
            raise Refusal("AE", "segment_missing", f"{segment} segment is required", "100", segment)
    patient_class = r.get("PV1", 2).upper()
    if patient_class not in INPATIENT_CLASSES:
        return []
    admission_id = r.get("PV1", 19) or r.get("PID", 18)
    if not admission_id:
        raise Refusal("AE", "admission_id_missing", "PV1-19 (visit number) or PID-18 is required", "101", "PV1^1^19")
    admission_id = admission_id[:64]
    stamp = (
        parse_ts(r.get("EVN", 6), "EVN-6")
        or parse_ts(r.get("EVN", 2), "EVN-2")
        or parse_ts(r.get("MSH", 7), "MSH-7")
        or utcnow()
    )
    where = Location(ward=r.get("PV1", 3, 1, 1), room=r.get("PV1", 3, 1, 2), bed=r.get("PV1", 3, 1, 3))
    base = "hl7:" + (control_id if len(control_id) <= 80 else hashlib.sha256(control_id.encode()).hexdigest()[:40])

    def event(kind: str, at: datetime, suffix: str = "", **values: object) -> EventInput:
        shape = {"type": kind, "admission_id": admission_id, "occurred_at": at.isoformat()}
        shape |= {k: str(v) for k, v in values.items() if k in ("bed", "ward", "room", "relation")}
        return EventInput(
            index=0,
            event_id=base + suffix,
            type=kind,
            admission_id=admission_id,
            occurred_at=at,
            body_hash=body_hash(shape),
            **values,  # type: ignore[arg-type]
        )

    located = {"bed": where.bed, "ward": where.ward, "room": where.room}
    events: list[EventInput] = []
    if trigger == "A01":
        at = parse_ts(r.get("PV1", 44), "PV1-44") or stamp
        patient, record_no = patient_of(r, establishment_id, cccd_systems)
        events.append(event("admission", at, patient=patient, record_no=record_no, **located))
        events += carers_of(r, event, at, cccd_systems)
    elif trigger == "A02" or trigger == "A12":
        if not where:
            raise Refusal("AE", "location_missing", "PV1-3 (assigned location) is required", "101", "PV1^1^3")
        events.append(event("transfer", stamp, **located))
    elif trigger == "A03":
        events.append(event("discharge", parse_ts(r.get("PV1", 45), "PV1-45") or stamp))
    elif trigger == "A08":
        patient, _record_no = patient_of(r, establishment_id, cccd_systems)
        if patient.doc_type != DocType.NONE:
            events.append(event("identify", stamp, patient=patient))
        events += carers_of(r, event, stamp, cccd_systems)
    elif trigger == "A11":
        events.append(event("cancel_admission", stamp))
    elif trigger == "A13":
        events.append(event("cancel_discharge", stamp, **located))
    return events


def patient_of(r: Reader, establishment_id: int, cccd_systems: tuple[str, ...]) -> tuple[PersonInput, str]:
    identifiers = [
        Identifier(value=r.get("PID", 3, n, 1), type=r.get("PID", 3, n, 5), system=r.get("PID", 3, n, 4))
        for n in range(1, r.repetitions("PID", 3) + 1)
    ]
    facts = PersonFacts(
        identifiers=identifiers,
        cccd=r.get("PID", 19),
        full_name=vietnamese_name(r.get("PID", 5, 1, 1), r.get("PID", 5, 1, 2), r.get("PID", 5, 1, 3)),
        birth_date=parse_date(r.get("PID", 7), "PID-7"),
        sex=sex_code(r.get("PID", 8)),
        address=address_of(r, "PID", 11),
    )
    matched = match_person(facts, cccd_systems)
    if matched.person is not None:
        return matched.person, matched.record_no
    if not matched.record_no:
        raise Refusal(
            "AE", "identity_missing", "PID-3 needs the CCCD (type NI) or the record number (type MR)", "101", "PID^1^3"
        )
    provisional = PersonInput(
        doc_type=DocType.NONE, doc_number="", full_name=facts.full_name, birth_date=facts.birth_date, sex=facts.sex
    )
    return provisional, matched.record_no[:16]


def address_of(r: Reader, segment: str, fld: int, seg_no: int = 1) -> str | None:
    """XAD: street^other^city^state^zip^country, written as one line."""
    parts = [r.get(segment, fld, 1, c, seg_no) for c in (1, 2, 3, 4)]
    return ", ".join(p for p in parts if p) or None


def carers_of(
    r: Reader, event: Callable[..., EventInput], at: datetime, cccd_systems: tuple[str, ...]
) -> list[EventInput]:
    out: list[EventInput] = []
    for n in range(1, r.count("NK1") + 1):
        if r.get("NK1", 7, 1, 1, seg_no=n).upper() != CARER_ROLE:
            continue
        identifiers = [
            Identifier(value=r.get("NK1", 33, k, 1, n), type=r.get("NK1", 33, k, 5, n))
            for k in range(1, r.repetitions("NK1", 33, n) + 1)
        ]
        facts = PersonFacts(
            identifiers=identifiers,
            cccd=r.get("NK1", 37, seg_no=n),
            full_name=vietnamese_name(r.get("NK1", 2, 1, 1, n), r.get("NK1", 2, 1, 2, n), r.get("NK1", 2, 1, 3, n)),
            birth_date=parse_date(r.get("NK1", 16, seg_no=n), "NK1-16"),
            sex=sex_code(r.get("NK1", 15, seg_no=n)),
            address=address_of(r, "NK1", 4, n),
        )
        matched = match_person(facts, cccd_systems)
        if matched.person is None:
            raise Refusal(
                "AE",
                "carer_document_missing",
                f"NK1 #{n}: a carer needs the CCCD (NK1-33 NI or NK1-37)",
                "101",
                f"NK1^{n}^33",
            )
        code, words = r.get("NK1", 3, 1, 1, n).upper(), r.get("NK1", 3, 1, 2, n)
        relation = words or RELATIONS.get(code, code) or "Người nhà"
        start = parse_ts(r.get("NK1", 8, seg_no=n), "NK1-8") or at
        out.append(event("carer", max(start, at), f":nk1:{n}", patient=matched.person, relation=relation))
    return out


# --- acknowledgements ---------------------------------------------------------------------------------------


def ack(translation: Translation, code: str, *, facility: str, refusal: Refusal | None = None) -> str:
    """The ACK of a message (original mode): MSA-1 `code`, MSA-2 its control ID, MSA-3 and ERR the reason."""
    stamp = datetime.now(VN_TZ).strftime("%Y%m%d%H%M%S%z")
    control = "ACK" + hashlib.sha256(f"{translation.control_id}{stamp}{code}".encode()).hexdigest()[:17].upper()
    message = translation.message
    if message is not None and translation.control_id:
        try:
            text = str(message.create_ack(code, message_id=control, application="ASM", facility=facility))
        except (KeyError, IndexError):
            text = ""
    else:
        text = ""
    if not text:  # not parsed: an ACK from scratch, in the newest version we speak
        msh = f"MSH|^~\\&|ASM|{escape(facility)}|||{stamp}||ACK|{control}|P|2.5"
        text = f"{msh}\rMSA|{code}|{escape(translation.control_id)}\r"
    text = text.rstrip("\r")
    if refusal is not None:
        reason = escape(f"{refusal.code}: {refusal.message}")[:200]
        text += f"|{reason}" if text.split("\r")[-1].count("|") == 2 else ""
        version = translation.version if translation.version in VERSIONS else "2.5"
        where = "^".join(escape(p) for p in (refusal.where or "").split("^"))
        if version in ("2.3", "2.3.1", "2.4"):
            text += f"\rERR|{where}^{refusal.hl7_code}&{escape(refusal.message)[:80]}&HL70357"
        else:
            text += (
                f"\rERR||{where}|{refusal.hl7_code}^{HL7_ERRORS.get(refusal.hl7_code, 'Application error')}^HL70357|E|"
                f"{escape(refusal.code)}|||{escape(refusal.message)[:250]}"
            )
    return text + "\r"


HL7_ERRORS = {
    "100": "Segment sequence error",
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "200": "Unsupported message type",
    "201": "Unsupported event code",
    "203": "Unsupported version id",
    "204": "Unknown key identifier",
    "206": "Application record locked",
    "207": "Application internal error",
}


def escape(value: str) -> str:
    """HL7 escapes of the default delimiters (\\F\\ \\S\\ \\T\\ \\R\\ \\E\\), and no segment break."""
    out = value.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\").replace("&", "\\T\\")
    return out.replace("~", "\\R\\").replace("\r", " ").replace("\n", " ")


def ack_code(text: str) -> str:
    """MSA-1 of an ACK (for the clients and the tests)."""
    for segment in text.split("\r"):
        if segment.startswith("MSA|"):
            return segment.split("|")[1]
    return ""
