"""FHIR R4 Bundles (issue 13): POST /api/v1/hospital/fhir and its CapabilityStatement."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from asm.clock import utcnow
from asm.extensions import db
from asm.hospital.models import BedStatus, HisMessage
from asm.people.models import Person
from asm.stays.models import EventKind, Stay, StayStatus
from tests.conftest import Factory
from tests.hospital.test_his_hl7 import HOA, LAN, NAM, NO_ID
from tests.support.his import Patient, fhir_bed, fhir_bundle, fhir_carer, fhir_encounter, fhir_patient
from tests.support.hospital import Hospital, make_hospital

URL = "/api/v1/hospital/fhir"


@pytest.fixture
def hospital(app: Flask, factory: Factory) -> Hospital:
    return make_hospital(factory)


@pytest.fixture
def headers(hospital: Hospital, factory: Factory) -> dict[str, str]:
    return {"Authorization": f"Bearer {factory.token(hospital.est, name='his')}"}


BASE = utcnow().replace(second=0, microsecond=0)


def ago(h: float) -> datetime:
    """A moment before the tests started: the same Encounter restated says the same times."""
    return BASE - timedelta(hours=h)


def post(client: FlaskClient, headers: dict[str, str], bundle: Any) -> Any:
    return client.post(URL, json=bundle, headers=headers | {"Content-Type": "application/fhir+json"})


def stay_of(number: str) -> Stay:
    db.session.rollback()
    stay = db.session.scalar(select(Stay).join(Person).where(Person.doc_number == number).order_by(Stay.id.desc()))
    assert stay is not None
    return stay


def admission_bundle(p: Patient, visit: str, locations: list[tuple[str, str, str, datetime]], **kw: Any) -> dict:
    resources: list[tuple[str, dict]] = [(f"urn:uuid:{visit}-p", fhir_patient(p))]
    refs = []
    for label, room, ward, at in locations:
        resources += fhir_bed(label, room, ward)
        refs.append((f"urn:uuid:loc-{label}", at))
    # Beds repeated by later locations appear once.
    seen: set[str] = set()
    unique = [(u, r) for u, r in resources if not (u in seen or seen.add(u))]  # type: ignore[func-returns-value]
    carers = kw.pop("carers", ())
    unique.append(
        (f"urn:uuid:{visit}-e", fhir_encounter(visit, f"urn:uuid:{visit}-p", refs, start=locations[0][3], **kw))
    )
    unique += [(f"urn:uuid:{visit}-c{n}", fhir_carer(c, f"urn:uuid:{visit}-p")) for n, c in enumerate(carers)]
    return fhir_bundle(unique)


def test_a_transaction_admits_moves_discharges_and_registers_carers(
    client: FlaskClient, hospital: Hospital, headers: dict[str, str]
) -> None:
    bundle = admission_bundle(NAM, "V1", [("K1-101-1", "P101", "K1", ago(6))], carers=(HOA,))
    response = post(client, headers, bundle)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/fhir+json"
    body = response.get_json()
    assert body["resourceType"] == "Bundle" and body["type"] == "transaction-response"
    assert len(body["entry"]) == len(bundle["entry"])
    assert "201 Created" in [e["response"]["status"] for e in body["entry"]]
    nam = stay_of(NAM.cccd or "")
    assert nam.status == StayStatus.IN_HOUSE and nam.room.name == "P101"
    assert stay_of(HOA.cccd).role == "carer"
    # The same Encounter restated with a second location: only the transfer is new.
    moved = admission_bundle(NAM, "V1", [("K1-101-1", "P101", "K1", ago(6)), ("K2-201-1", "P201", "K2", ago(3))])
    assert post(client, headers, moved).status_code == 200
    nam = stay_of(NAM.cccd or "")
    assert nam.room.name == "P201" and [e.kind for e in nam.events] == [EventKind.CHECK_IN, EventKind.MOVE]
    # Then finished: the discharge; sent twice, filed once.
    done = admission_bundle(
        NAM,
        "V1",
        [("K1-101-1", "P101", "K1", ago(6)), ("K2-201-1", "P201", "K2", ago(3))],
        status="finished",
        end=ago(1),
    )
    assert post(client, headers, done).status_code == 200
    again = post(client, headers, done).get_json()
    assert all(e["response"]["status"] == "200 OK" for e in again["entry"])
    nam = stay_of(NAM.cccd or "")
    assert nam.status == StayStatus.CHECKED_OUT and len(nam.events) == 3
    assert stay_of(HOA.cccd).status == StayStatus.CHECKED_OUT
    db.session.expire_all()
    assert hospital.bed("K2-201-1").status == BedStatus.CLEANING


def test_a_transaction_with_a_refused_encounter_files_nothing_a_batch_files_the_rest(
    client: FlaskClient, hospital: Hospital, headers: dict[str, str]
) -> None:
    good = admission_bundle(LAN, "V2", [("K1-101-2", "P101", "K1", ago(2))])
    bad = admission_bundle(NAM, "V3", [("K9-1", "P9", "K9", ago(2))])
    both = {**good, "entry": good["entry"] + bad["entry"]}
    response = post(client, headers, both)
    assert response.status_code == 422
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome" and "bed_unknown" in outcome["issue"][0]["diagnostics"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Stay)) == 0
    batch = {**both, "type": "batch"}
    body = post(client, headers, batch).get_json()
    assert body["type"] == "batch-response"
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert "201 Created" in statuses and "422 Unprocessable Entity" in statuses
    assert stay_of(LAN.cccd or "").status == StayStatus.IN_HOUSE
    db.session.rollback()
    kept = {m.key: m for m in db.session.scalars(select(HisMessage).where(HisMessage.channel == "fhir"))}
    assert sorted(m.status for m in kept.values()) == ["refused", "refused"]


def test_invalid_bundles_are_400_with_an_operation_outcome(
    client: FlaskClient, hospital: Hospital, headers: dict[str, str]
) -> None:
    for body in (
        {"resourceType": "Patient"},
        {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {"resourceType": "Encounter"}}]},
        {"resourceType": "Bundle", "type": "document", "entry": []},
    ):
        response = post(client, headers, body)
        assert response.status_code == 400, body
        assert response.get_json()["resourceType"] == "OperationOutcome"
    response = client.post(URL, data=b"{not json", headers=headers | {"Content-Type": "application/fhir+json"})
    assert response.status_code == 400
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Stay)) == 0


def test_a_patient_without_cccd_is_provisional_until_a_bundle_brings_it(
    client: FlaskClient, hospital: Hospital, headers: dict[str, str]
) -> None:
    assert post(client, headers, admission_bundle(NO_ID, "V4", [("K1-102-1", "P102", "K1", ago(3))])).status_code == 200
    db.session.rollback()
    draft = db.session.scalar(select(Stay).join(Person).where(Person.doc_type == "none"))
    assert draft is not None and draft.status == StayStatus.DRAFT
    known = Patient("001060034567", NO_ID.record_no, "Trần", "Hùng", "Văn", "19600303", "M")
    assert post(client, headers, admission_bundle(known, "V4", [("K1-102-1", "P102", "K1", ago(3))])).status_code == 200
    filed = stay_of("001060034567")
    assert filed.id == draft.id and filed.status == StayStatus.IN_HOUSE and filed.receipt_no


def test_the_capability_statement(client: FlaskClient) -> None:
    response = client.get(URL + "/metadata")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    doc = response.get_json()
    assert doc["resourceType"] == "CapabilityStatement" and doc["fhirVersion"] == "4.0.1"
    assert {r["type"] for r in doc["rest"][0]["resource"]} == {"Patient", "Encounter", "Location", "RelatedPerson"}


def test_only_a_hospitals_token(client: FlaskClient, factory: Factory) -> None:
    hotel = factory.establishment()
    response = client.post(URL, json={}, headers={"Authorization": f"Bearer {factory.token(hotel)}"})
    assert response.status_code == 403
    assert client.post(URL, json={}).status_code == 401
