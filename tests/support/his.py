"""Hospital information systems for the tests: HL7 v2 messages of two HIS dialects, an MLLP client, FHIR Bundles
and insurance XML files describing the same admissions."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from asm.clock import VN_TZ

VT, FS, CR = b"\x0b", b"\x1c", b"\x0d"


def segment(name: str, fields: dict[int, str]) -> str:
    """A segment with its fields at their HL7 positions (1-based), the rest empty."""
    last = max(fields) if fields else 0
    values = [fields.get(i, "") for i in range(1, last + 1)]
    return "|".join([name, *values])


def msh(trigger: str, control_id: str, version: str, app: str = "HIS", facility: str = "BV") -> str:
    return f"MSH|^~\\&|{app}|{facility}|ASM|BV|20261120090000||ADT^{trigger}^ADT_{trigger}|{control_id}|P|{version}"


def ts(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%Y%m%d%H%M%S")


@dataclass(frozen=True)
class Patient:
    cccd: str | None
    record_no: str
    family: str
    given: str
    middle: str
    birth: str  # YYYYMMDD
    sex: str  # M / F


@dataclass(frozen=True)
class Carer:
    cccd: str
    family: str
    given: str
    middle: str
    birth: str
    sex: str
    relation: tuple[str, str]  # HL7 table 0063 code, words


class DialectA:
    """HIS "A" (v2.5): the CCCD in PID-3 typed NI beside the record number typed MR; the visit in PV1-19, times
    in PV1-44/45 and EVN-6; carers as NK1 with contact role CG and the CCCD in NK1-33; CR between segments."""

    version = "2.5"
    sep = "\r"

    def pid(self, p: Patient) -> str:
        ids = f"{p.record_no}^^^BVA^MR"
        if p.cccd:
            ids += f"~{p.cccd}^^^BCA^NI"
        return segment(
            "PID",
            {1: "1", 3: ids, 5: f"{p.family}^{p.given}^{p.middle}", 7: p.birth, 8: p.sex, 11: "Số 1 Hàng Bài^^Hà Nội"},
        )

    def pv1(self, visit: str, location: str, admit: datetime | None = None, discharge: datetime | None = None) -> str:
        fields = {1: "1", 2: "I", 3: location, 19: visit}
        if admit:
            fields[44] = ts(admit)
        if discharge:
            fields[45] = ts(discharge)
        return segment("PV1", fields)

    def nk1(self, n: int, c: Carer) -> str:
        return segment(
            "NK1",
            {
                1: str(n),
                2: f"{c.family}^{c.given}^{c.middle}",
                3: "^".join(c.relation),
                7: "CG",
                15: c.sex,
                16: c.birth,
                33: f"{c.cccd}^^^BCA^NI",
            },
        )

    def evn(self, trigger: str, at: datetime) -> str:
        return segment("EVN", {1: trigger, 2: ts(at), 6: ts(at)})

    def message(self, trigger: str, control: str, segments: list[str]) -> str:
        return self.sep.join([msh(trigger, control, self.version, app="HISA"), *segments])

    def admit(self, control: str, p: Patient, visit: str, location: str, at: datetime, carers: tuple[Carer, ...] = ()):
        nk1 = [self.nk1(i + 1, c) for i, c in enumerate(carers)]
        return self.message(
            "A01", control, [self.evn("A01", at), self.pid(p), self.pv1(visit, location, admit=at), *nk1]
        )

    def transfer(self, control: str, p: Patient, visit: str, location: str, at: datetime) -> str:
        return self.message("A02", control, [self.evn("A02", at), self.pid(p), self.pv1(visit, location)])

    def discharge(self, control: str, p: Patient, visit: str, location: str, at: datetime) -> str:
        return self.message("A03", control, [self.evn("A03", at), self.pid(p), self.pv1(visit, location, discharge=at)])

    def other(self, trigger: str, control: str, p: Patient, visit: str, location: str, at: datetime) -> str:
        return self.message(trigger, control, [self.evn(trigger, at), self.pid(p), self.pv1(visit, location)])


class DialectB(DialectA):
    """HIS "B" (v2.3): only the medical record number in PID-3 (no type code), the CCCD in PID-19; the visit in
    PID-18 (account number), no PV1-19; times only in EVN-2; LF between segments (as some HIS send)."""

    version = "2.3"
    sep = "\n"

    def pid(self, p: Patient) -> str:
        fields = {1: "1", 3: f"{p.record_no}^^^BVB", 5: f"{p.family}^{p.given}^{p.middle}", 7: p.birth, 8: p.sex}
        fields[18] = self._visit
        if p.cccd:
            fields[19] = p.cccd
        return segment("PID", fields)

    def pv1(self, visit: str, location: str, admit: datetime | None = None, discharge: datetime | None = None) -> str:
        return segment("PV1", {1: "1", 2: "I", 3: location})

    def evn(self, trigger: str, at: datetime) -> str:
        return segment("EVN", {1: trigger, 2: ts(at)})

    def message(self, trigger: str, control: str, segments: list[str]) -> str:
        return self.sep.join([msh(trigger, control, self.version, app="HISB"), *segments])

    _visit = ""

    def admit(self, control, p, visit, location, at, carers=()):  # type: ignore[no-untyped-def]
        self._visit = visit
        return super().admit(control, p, visit, location, at, carers)

    def transfer(self, control, p, visit, location, at):  # type: ignore[no-untyped-def]
        self._visit = visit
        return super().transfer(control, p, visit, location, at)

    def discharge(self, control, p, visit, location, at):  # type: ignore[no-untyped-def]
        self._visit = visit
        return super().discharge(control, p, visit, location, at)

    def other(self, trigger, control, p, visit, location, at):  # type: ignore[no-untyped-def]
        self._visit = visit
        return super().other(trigger, control, p, visit, location, at)


class MllpClient:
    """A blocking MLLP client: `send(text)` frames a message and returns the ACK's text."""

    def __init__(self, host: str, port: int, timeout: float = 60) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = b""

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, text: str) -> str:
        self.sock.sendall(VT + text.encode("utf-8") + FS + CR)
        return self.receive()

    def receive(self) -> str:
        while FS + CR not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the listener")
            self.buffer += chunk
        block, _, self.buffer = self.buffer.partition(FS + CR)
        return block[block.rfind(VT) + 1 :].decode("utf-8")

    def close(self) -> None:
        self.sock.close()


@contextmanager
def mllp_client(host: str, port: int, timeout: float = 60) -> Iterator[MllpClient]:
    client = MllpClient(host, port, timeout)
    try:
        yield client
    finally:
        client.close()


def ack_code(ack: str) -> str:
    msa = next(s for s in ack.split("\r") if s.startswith("MSA|"))
    return msa.split("|")[1]


def err_segment(ack: str) -> str:
    return next((s for s in ack.split("\r") if s.startswith("ERR|")), "")


# --- FHIR ---------------------------------------------------------------------------------------------------

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def fhir_patient(p: Patient) -> dict:  # type: ignore[type-arg]
    ids = [{"type": {"coding": [{"system": V2_0203, "code": "MR"}]}, "value": p.record_no}]
    if p.cccd:
        ids.append({"type": {"coding": [{"system": V2_0203, "code": "NI"}]}, "value": p.cccd})
    return {
        "resourceType": "Patient",
        "identifier": ids,
        "name": [{"family": p.family, "given": [p.middle, p.given]}],
        "gender": "male" if p.sex == "M" else "female",
        "birthDate": f"{p.birth[:4]}-{p.birth[4:6]}-{p.birth[6:]}",
        "address": [{"text": "Số 1 Hàng Bài, Hà Nội"}],
    }


def fhir_bed(label: str, room: str, ward: str) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    """A bed Location partOf its room, partOf its ward: three entries (fullUrl, resource)."""

    def loc(code: str, kind: str, parent: str | None) -> dict:  # type: ignore[type-arg]
        resource = {
            "resourceType": "Location",
            "identifier": [{"value": code}],
            "name": code,
            "physicalType": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/location-physical-type", "code": kind}]
            },
        }
        if parent:
            resource["partOf"] = {"reference": parent}
        return resource

    return [
        (f"urn:uuid:loc-{label}", loc(label, "bd", f"urn:uuid:loc-{room}")),
        (f"urn:uuid:loc-{room}", loc(room, "ro", f"urn:uuid:loc-{ward}")),
        (f"urn:uuid:loc-{ward}", loc(ward, "wa", None)),
    ]


def fhir_encounter(
    visit: str,
    patient_url: str,
    locations: list[tuple[str, datetime]],
    *,
    status: str = "in-progress",
    start: datetime,
    end: datetime | None = None,
) -> dict:  # type: ignore[type-arg]
    history = []
    for n, (url, at) in enumerate(locations):
        last = n == len(locations) - 1
        period = {"start": at.isoformat()}
        if not last:
            period["end"] = locations[n + 1][1].isoformat()
        history.append({"location": {"reference": url}, "status": "active" if last else "completed", "period": period})
    period = {"start": start.isoformat()} | ({"end": end.isoformat()} if end else {})
    return {
        "resourceType": "Encounter",
        "identifier": [{"system": "urn:his:visit", "value": visit}],
        "status": status,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": patient_url},
        "period": period,
        "location": history,
    }


def fhir_carer(c: Carer, patient_url: str) -> dict:  # type: ignore[type-arg]
    return {
        "resourceType": "RelatedPerson",
        "patient": {"reference": patient_url},
        "identifier": [{"type": {"coding": [{"system": V2_0203, "code": "NI"}]}, "value": c.cccd}],
        "name": [{"family": c.family, "given": [c.middle, c.given]}],
        "gender": "male" if c.sex == "M" else "female",
        "birthDate": f"{c.birth[:4]}-{c.birth[4:6]}-{c.birth[6:]}",
        "relationship": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "CHILD"}]}
        ],
    }


def fhir_bundle(resources: list[tuple[str, dict]], kind: str = "transaction") -> dict:  # type: ignore[type-arg]
    entries = []
    for url, resource in resources:
        rtype = resource["resourceType"]
        entries.append({"fullUrl": url, "resource": resource, "request": {"method": "POST", "url": rtype}})
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


# --- insurance XML (QĐ 130 XML1) ----------------------------------------------------------------------------


def xml1_record(
    p: Patient, visit: str, ward: str, admitted: datetime, discharged: datetime | None = None, visit_type: str = "03"
) -> str:
    def hm(t: datetime | None) -> str:
        return t.astimezone(VN_TZ).strftime("%Y%m%d%H%M") if t else ""

    name = " ".join(x for x in (p.family, p.middle, p.given) if x)
    fields = {
        "MA_LK": visit,
        "STT": "1",
        "MA_BN": p.record_no,
        "HO_TEN": name,
        "SO_CCCD": p.cccd or "",
        "NGAY_SINH": p.birth,
        "GIOI_TINH": "1" if p.sex == "M" else "2",
        "DIA_CHI": "Số 1 Hàng Bài, Hà Nội",
        "MA_THE_BHYT": "DN4010123456789",
        "NGAY_VAO": hm(admitted),
        "NGAY_VAO_NOI_TRU": hm(admitted),
        "NGAY_RA": hm(discharged),
        "MA_LOAI_KCB": visit_type,
        "MA_KHOA": ward,
        "T_TONGCHI": "1250000",
    }
    return "<TONG_HOP>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + "</TONG_HOP>"


def xml_envelope(records: list[str], facility: str = "01001") -> bytes:
    """The submission file: GIAMDINHHS with one HOSO per visit, its XML1 in base64 (as the HIS sends it)."""
    import base64

    hoso = "".join(
        "<HOSO><FILEHOSO><LOAIHOSO>XML1</LOAIHOSO><NOIDUNGFILE>"
        + base64.b64encode(('<?xml version="1.0" encoding="utf-8"?>' + r).encode()).decode()
        + "</NOIDUNGFILE></FILEHOSO><FILEHOSO><LOAIHOSO>XML2</LOAIHOSO><NOIDUNGFILE></NOIDUNGFILE></FILEHOSO></HOSO>"
        for r in records
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><GIAMDINHHS><THONGTINDONVI><MACSKCB>'
        + facility
        + "</MACSKCB></THONGTINDONVI><THONGTINHOSO><NGAYLAP>20261120</NGAYLAP><SOLUONGHOSO>"
        + str(len(records))
        + "</SOLUONGHOSO><DANHSACHHOSO>"
        + hoso
        + "</DANHSACHHOSO></THONGTINHOSO><CHUKYDONVI/></GIAMDINHHS>"
    ).encode()
