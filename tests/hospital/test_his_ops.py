"""The operations page of the HIS channels (issue 13): counters, errors with the raw message, replay, XML upload."""

from __future__ import annotations

import io
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from asm.accounts.models import Role
from asm.clock import utcnow
from asm.extensions import db
from asm.hospital.his.mllp import Filer
from asm.hospital.models import HisMessage
from asm.stays.models import Stay
from tests.conftest import Factory, post_form
from tests.hospital.test_his_hl7 import LAN, NAM
from tests.support.his import DialectA, ack_code, xml1_record, xml_envelope
from tests.support.hospital import make_hospital


def test_counters_errors_replay_and_upload(app: Flask, client: FlaskClient, factory: Factory, login_as) -> None:  # type: ignore[no-untyped-def]
    hospital = make_hospital(factory)
    code = hospital.est.code
    d = DialectA()
    now = utcnow()
    filer = Filer(code)
    early = d.transfer("T1", NAM, "V1", "K2^P201^K2-201-1", now - timedelta(hours=1))
    [answer], _ = filer.file([early.encode()])
    db.session.commit()
    assert ack_code(answer) == "AE"
    [answer], _ = filer.file([b"not hl7 at all"])
    db.session.commit()
    assert ack_code(answer) == "AR"

    login_as(factory.user(Role.CLERK, establishment=hospital.est))
    page = client.get(f"/benh-vien/{code}/tich-hop")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "admission_unknown" in html and "K2^P201^K2-201-1" in html  # the error and the raw message
    assert "not hl7 at all" in html

    # The cause is fixed (the admission arrives), then the IT staff replay the refused message.
    [answer], _ = filer.file([d.admit("T0", NAM, "V1", "K1^P101^K1-101-1", now - timedelta(hours=2)).encode()])
    db.session.commit()
    t1 = db.session.scalar(select(HisMessage).where(HisMessage.key == "T1"))
    assert t1 is not None and t1.status == "refused"
    response = post_form(client, f"/benh-vien/{code}/tich-hop/{t1.id}/xu-ly-lai", follow_redirects=True)
    assert response.status_code == 200
    db.session.refresh(t1)
    assert t1.status == "applied"
    stay = db.session.scalar(select(Stay))
    assert stay is not None and stay.room.name == "P201"

    # An insurance XML file uploaded on the page.
    data = xml_envelope([xml1_record(LAN, "X1", "K1", now - timedelta(hours=3))])
    response = post_form(
        client,
        f"/benh-vien/{code}/tich-hop/xml",
        {"files": (io.BytesIO(data), "xml130.xml")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200 and "xml130.xml" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(HisMessage).where(HisMessage.channel == "xml")).status == "applied"  # type: ignore[union-attr]
    html = client.get(f"/benh-vien/{code}/tich-hop").get_data(as_text=True)
    assert 'id="counters-hl7"' in html and 'id="counters-xml"' in html


def test_only_the_hospitals_staff(client: FlaskClient, factory: Factory, login_as) -> None:  # type: ignore[no-untyped-def]
    hospital = make_hospital(factory)
    other = factory.establishment()
    login_as(factory.user(Role.CLERK, establishment=other))
    assert client.get(f"/benh-vien/{hospital.est.code}/tich-hop").status_code in (403, 404)
