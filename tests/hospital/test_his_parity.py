"""The same admissions sent as HL7 v2 ADT (over MLLP), as FHIR Bundles and as an insurance XML file give the same
stays (issue 13); the XML import reads a file twice without filing twice, by the CLI."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from asm.clock import utcnow
from asm.extensions import db
from asm.hospital.his.mllp import Listener
from asm.hospital.models import BedAssignment, HisMessage
from asm.stays.models import Stay
from tests.conftest import Factory
from tests.hospital.test_his_fhir import admission_bundle
from tests.hospital.test_his_hl7 import LAN, NAM, NO_ID
from tests.support.his import DialectA, Patient, ack_code, mllp_client, xml1_record, xml_envelope
from tests.support.hospital import make_hospital

NOW = utcnow().replace(second=0, microsecond=0)
T = {name: NOW - timedelta(hours=h) for name, h in (("nam", 8), ("lan", 7), ("noid", 6), ("lan_out", 2))}
# (patient, visit, ward, room, bed, admitted, discharged)
ADMISSIONS: list[tuple[Patient, str, str, str, str, datetime, datetime | None]] = [
    (NAM, "V1", "K1", "P101", "K1-101-1", T["nam"], None),
    (LAN, "V2", "K1", "P101", "K1-101-2", T["lan"], T["lan_out"]),
    (NO_ID, "V3", "K2", "P201", "K2-201-1", T["noid"], None),
]


def stays_of(est_id: int) -> list[tuple[Any, ...]]:
    db.session.rollback()
    rows = []
    for stay in db.session.scalars(select(Stay).where(Stay.establishment_id == est_id).order_by(Stay.arrived_at)):
        beds = db.session.scalars(
            select(BedAssignment).where(BedAssignment.stay_id == stay.id).order_by(BedAssignment.start_at)
        ).all()
        rows.append(
            (
                stay.person.doc_type,
                stay.person.full_name,
                stay.person.birth_date,
                stay.role,
                stay.status,
                stay.arrived_at,
                stay.departed_at,
                stay.deadline_at,
                stay.filed_at is not None,
                stay.room.name if stay.room else None,
                [b.bed.label for b in beds],
                [e.kind for e in stay.events],
            )
        )
    return rows


def test_adt_fhir_and_xml_give_the_same_stays(
    app: Flask, client: FlaskClient, factory: Factory, tmp_path: Path
) -> None:
    by_adt, by_fhir, by_xml = (make_hospital(factory, name=f"Bệnh viện {n}") for n in ("ADT", "FHIR", "XML"))
    # HL7 v2 over MLLP.
    listener = Listener(app, by_adt.est.code, port=0)
    listener.start()
    try:
        d = DialectA()
        with mllp_client(listener.host, listener.port) as his:
            for n, (p, visit, ward, room, bed, admitted, discharged) in enumerate(ADMISSIONS):
                assert ack_code(his.send(d.admit(f"A{n}", p, visit, f"{ward}^{room}^{bed}", admitted))) == "AA"
                if discharged:
                    assert ack_code(his.send(d.discharge(f"D{n}", p, visit, "", discharged))) == "AA"
    finally:
        listener.stop()
    # FHIR, one transaction Bundle per admission.
    token = factory.token(by_fhir.est, name="fhir")
    for p, visit, ward, room, bed, admitted, discharged in ADMISSIONS:
        kw: dict[str, Any] = {"status": "finished", "end": discharged} if discharged else {}
        bundle = admission_bundle(p, visit, [(bed, room, ward, admitted)], **kw)
        response = client.post("/api/v1/hospital/fhir", json=bundle, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.get_data(as_text=True)
    # Insurance XML: one file with the three visits, by department only.
    records = [
        xml1_record(p, visit, ward, admitted, discharged) for p, visit, ward, _r, _b, admitted, discharged in ADMISSIONS
    ]
    file = tmp_path / "xml130.xml"
    file.write_bytes(xml_envelope(records))
    result = app.test_cli_runner().invoke(
        args=["hospital", "import-xml", str(file), "--establishment", by_xml.est.code]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count(" applied") == 3

    adt = stays_of(by_adt.est.id)
    assert len(adt) == 3 and [s[4] for s in adt] == ["in_house", "checked_out", "draft"]
    assert adt[2][0] == "none"  # no CCCD: a provisional identity under the record number
    assert stays_of(by_fhir.est.id) == adt
    assert stays_of(by_xml.est.id) == adt


def test_an_xml_file_read_twice_files_nothing_twice(app: Flask, factory: Factory, tmp_path: Path) -> None:
    hospital = make_hospital(factory)
    outpatient = Patient("001060034567", "BN9", "Trần", "Hùng", "Văn", "19600303", "M")
    records = [
        xml1_record(NAM, "V1", "K1", T["nam"]),
        xml1_record(outpatient, "V9", "K1", T["lan"], T["lan_out"], visit_type="01"),  # an outpatient visit
        xml1_record(LAN, "V2", "K9", T["lan"]),  # an unknown department
    ]
    file = tmp_path / "a.xml"
    file.write_bytes(xml_envelope(records))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["hospital", "import-xml", str(file), "--establishment", hospital.est.code])
    assert first.exit_code == 1  # a record was refused
    assert "V1 applied" in first.output and "V9 ignored" in first.output
    assert "V2 refused location_unknown" in first.output and "K9" in first.output

    def count() -> int:
        db.session.rollback()
        return db.session.scalar(select(func.count()).select_from(Stay)) or 0

    assert count() == 1
    again = runner.invoke(args=["hospital", "import-xml", str(file), "--establishment", hospital.est.code])
    assert "V1 duplicate" in again.output and count() == 1
    # The visit ends: the HIS's next file restates it with NGAY_RA; only the discharge is new.
    later = tmp_path / "b.xml"
    later.write_bytes(xml_envelope([xml1_record(NAM, "V1", "K1", T["nam"], T["lan_out"])]))
    third = runner.invoke(args=["hospital", "import-xml", str(later), "--establishment", hospital.est.code])
    assert third.exit_code == 0 and "V1 applied" in third.output and count() == 1
    db.session.rollback()
    stay = db.session.scalar(select(Stay))
    assert stay is not None and stay.status == "checked_out"
    # A file that is not XML, or has a DOCTYPE, is refused whole.
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><TONG_HOP>&a;</TONG_HOP>')
    refused = runner.invoke(args=["hospital", "import-xml", str(bad), "--establishment", hospital.est.code])
    assert refused.exit_code == 1 and "not read" in refused.output
    kept = db.session.scalars(select(HisMessage).where(HisMessage.channel == "xml")).all()
    assert {m.status for m in kept} == {"applied", "ignored", "refused"}
