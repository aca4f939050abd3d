"""`flask hospital ...` and the demo hospital, through `app.test_cli_runner()`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from asm.clock import utcnow
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.hospital import queries
from asm.hospital.models import Carer, Ward
from asm.stays.models import Stay, StayStatus
from asm.stays.rules import NoticeState
from tests.conftest import Factory
from tests.support.desk import use_fast_password_hashes


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def flask(app: Flask) -> Any:
    runner = app.test_cli_runner()

    def run(*args: str) -> Result:
        result = runner.invoke(args=list(args))
        db.session.expire_all()
        return result

    return run


def test_add_ward_and_settings(flask: Any, factory: Factory) -> None:
    est = factory.establishment(type="hospital", rooms=(), code="BV-CLI")
    result = flask("hospital", "add-ward", "BV-CLI", "--ward", "k3", "--name", "Khoa Nhi", "--beds", "P301:3,P302:1")
    assert result.exit_code == 0, result.output
    assert "created ward K3 with 4 beds" in result.output
    ward = db.session.scalars(select(Ward)).one()
    assert [(b.label, b.room.name) for b in ward.beds] == [
        ("K3-P301-1", "P301"),
        ("K3-P301-2", "P301"),
        ("K3-P301-3", "P301"),
        ("K3-P302-1", "P302"),
    ]
    assert ward.capacity == 4
    again = flask("hospital", "add-ward", "BV-CLI", "--ward", "K3", "--name", "Khoa Nhi", "--beds", "P303:1")
    assert again.exit_code != 0 and "Mã khoa đã có." in again.output
    bad = flask("hospital", "add-ward", "BV-CLI", "--ward", "K4", "--name", "X", "--beds", "P1")
    assert bad.exit_code != 0 and "ROOM:COUNT" in bad.output

    assert "max_carers=2 notify_carers=on" in flask("hospital", "settings", "BV-CLI").output
    result = flask("hospital", "settings", "BV-CLI", "--max-carers", "3", "--no-notify-carers")
    assert "max_carers=3 notify_carers=off" in result.output
    db.session.refresh(est)
    assert (est.max_carers, est.notify_carers) == (3, False)
    hotel = factory.establishment(code="KS-CLI")
    refused = flask("hospital", "add-ward", hotel.code, "--ward", "K1", "--name", "X", "--beds", "P1:1")
    assert refused.exit_code != 0 and "không phải cơ sở khám chữa bệnh" in refused.output


def test_the_demo_hospital_has_wards_patients_and_carers(app: Flask, flask: Any) -> None:
    result = flask("demo", "load")
    assert result.exit_code == 0, result.output
    est = db.session.scalars(select(Establishment).where(Establishment.code == "HN-BV-HOANKIEM")).one()
    wards = queries.wards(est)
    assert [(w.code, len(w.beds)) for w in wards] == [("K1", 8), ("K2", 8)]
    assert {b.label for w in wards for b in w.beds} == {f"K{k}-G{n:02d}" for k in (1, 2) for n in range(1, 9)}
    stays = db.session.scalars(select(Stay).where(Stay.establishment_id == est.id)).all()
    assert stays and {s.role for s in stays} == {"patient", "carer"}
    assert db.session.scalars(select(Carer)).all()
    now = utcnow()
    views = [v for w in wards for v in queries.board(w, now)]
    flags = {f for v in views for f in v.flags}
    assert {"long_stay", "provisional", "late"} <= flags
    assert {v.state for v in views} >= {"occupied", "free", "reserved", "cleaning"}
    # The transferred patient kept both beds in their history; the discharged one left with their carer.
    assert any(len(queries.assignments_of(s)) == 2 for s in stays if s.role == "patient")
    out = [s for s in stays if s.role == "patient" and s.status == StayStatus.CHECKED_OUT]
    assert len(out) == 1 and all(c.stay.status == StayStatus.CHECKED_OUT for c in queries.carers_of(out[0]))
    provisional = next(v.stay for v in views if v.stay is not None and "provisional" in v.flags)
    assert provisional.state(now + timedelta(days=1)) == NoticeState.OVERDUE
