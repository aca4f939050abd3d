"""Demo data of the demo hospital: its rooms "K1-G01".."K2-G08" become two wards of one bed each, with a few
inpatients and carers written through the hospital services at the moment each thing happened."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from asm.clock import local_today
from asm.common import Actor, ValidationError
from asm.demo.people import fake_person
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.hospital import services
from asm.hospital.models import Bed, BedStatus, Ward
from asm.people.services import PersonInput
from asm.stays.models import Source, Stay

WARDS = (("K1", "Khoa Nội tổng hợp"), ("K2", "Khoa Ngoại"))
RELATIONS = ("Vợ", "Chồng", "Con", "Mẹ", "Anh/chị/em", "Cháu")

# (hours before now it began, bed, carers, then: ("move", hours before now, bed) / ("out", hours before now))
PATIENTS: tuple[tuple[float, str, int, tuple[object, ...] | None], ...] = (
    (33 * 24 + 3, "K1-G01", 1, None),  # past 30 days: due for temporary residence
    (10 * 24, "K2-G05", 2, None),
    (6 * 24, "K1-G02", 2, ("move", 3 * 24, "K2-G03")),
    (4 * 24, "K1-G03", 1, ("out", 20)),
    (2 * 24 + 5, "K1-G04", 1, None),
    (5, "K2-G02", 1, None),
)
LATE = (30, 4, "K2-G01")  # arrived 30 h ago, filed 4 h ago: late
PROVISIONAL = (2, "K2-G04", "BA-2026-0117")  # an unconscious patient, no document yet


def _person(rng: random.Random, now: datetime) -> PersonInput:
    p = fake_person(rng, today=local_today(now))
    return PersonInput(
        doc_type="cccd",
        doc_number=p.id_number,
        full_name=p.full_name,
        birth_date=p.birth_date,
        sex=p.sex,
        address=p.address,
        id_issue_date=p.issue_date,
    )


def fill_demo_hospital(est: Establishment, actor: Actor, rng: random.Random, *, now: datetime) -> int:
    """Wards from the rooms, then the patients; returns the number of stays made."""
    wards: list[Ward] = []
    for code, name in WARDS:
        rooms = [r.name for r in est.rooms if r.name.startswith(code + "-")]
        wards.append(services.create_ward(est, code=code, name=name, beds=[(room, room) for room in rooms]))
    beds = {b.label: b for w in wards for b in w.beds}
    made: list[Stay] = []

    def attempt(action):  # type: ignore[no-untyped-def]
        try:
            with db.session.begin_nested():
                return action()
        except ValidationError:
            return None  # a generated person clashed with an open stay: skip them

    for hours, bed, carers, then in PATIENTS:
        arrived = now - timedelta(hours=hours)
        filed = arrived + timedelta(minutes=rng.randint(5, 40))
        data = services.AdmissionInput(
            bed_id=beds[bed].id,
            arrived_at=arrived,
            patient=_person(rng, now),
            expected_discharge=(arrived + timedelta(days=40 if hours > 30 * 24 else rng.randint(3, 9))).date(),
        )
        patient = attempt(
            lambda data=data, filed=filed: services.admit(est, data, actor=actor, now=filed, source=Source.DEMO)
        )
        if patient is None:
            continue
        made.append(patient)
        for n in range(carers):
            at = filed + timedelta(minutes=30 + 20 * n)
            carer = services.CarerInput(person=_person(rng, now), relation=rng.choice(RELATIONS), arrived_at=at)
            stay = attempt(
                lambda p=patient, c=carer, at=at: services.register_carer(p, c, actor=actor, now=at, source=Source.DEMO)
            )
            if stay is not None:
                made.append(stay)
        if then and then[0] == "move":
            at = now - timedelta(hours=float(then[1]))  # type: ignore[arg-type]
            services.transfer(patient, bed_id=beds[str(then[2])].id, at=at, actor=actor, now=at)
        elif then and then[0] == "out":
            at = now - timedelta(hours=float(then[1]))  # type: ignore[arg-type]
            services.discharge(patient, at=at, actor=actor, now=at)

    hours, filed_hours, bed = LATE
    late = services.AdmissionInput(
        bed_id=beds[bed].id, arrived_at=now - timedelta(hours=hours), patient=_person(rng, now)
    )
    stay = attempt(
        lambda: services.admit(est, late, actor=actor, now=now - timedelta(hours=filed_hours), source=Source.DEMO)
    )
    if stay is not None:
        made.append(stay)
    hours, bed, record_no = PROVISIONAL
    arrived = now - timedelta(hours=hours)
    unknown = services.AdmissionInput(
        bed_id=beds[bed].id,
        arrived_at=arrived,
        provisional=services.ProvisionalInput(record_no=record_no, birth_date=datetime(1958, 1, 1).date(), sex="M"),
    )
    made.append(services.admit(est, unknown, actor=actor, now=arrived + timedelta(minutes=10), source=Source.DEMO))
    reserved: Bed = beds["K1-G08"]
    reserved.status = BedStatus.RESERVED
    db.session.flush()
    return len(made)
