"""The police morning digest (issue 14, asm/police/digest.py): an officer opts in on the account page; at 07:30 the
ward's overdue notifications (establishments and counts, no guest named) go by e-mail through the job queue to
the ward's police who opted in, once per ward and day even when the schedule runs twice; a ward with nothing
overdue, or an officer who did not opt in, gets nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from asm.accounts.models import Role
from asm.clock import utcnow
from asm.extensions import db
from asm.jobs import execute
from asm.jobs.models import Job
from asm.police import digest
from tests.conftest import Factory, csrf_token
from tests.support.desk import client_as, use_fast_password_hashes
from tests.support.mail import Sink
from tests.support.police import file_stay, guest


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


def test_the_ward_digest_lists_overdue_establishments_once_to_those_who_opted_in(
    app: Flask, factory: Factory, smtp_sink: Sink
) -> None:
    now = utcnow()
    late = factory.establishment(commune="00004", name="Nhà nghỉ Quá Hạn")
    on_time = factory.establishment(commune="00004", name="Khách sạn Đúng Hạn")
    elsewhere = factory.establishment(commune="00070", name="Nhà nghỉ Xã Khác")
    file_stay(late, [guest("Khách Một"), guest("Khách Hai")], arrived=now - timedelta(days=2), filed=None)
    file_stay(on_time, [guest("Khách Ba")], arrived=now - timedelta(hours=2), filed=now - timedelta(hours=1))
    file_stay(elsewhere, [guest("Khách Bốn")], arrived=now - timedelta(days=2), filed=None)
    reader = factory.user(Role.OFFICER, commune="00004")
    other = factory.user(Role.OFFICER, commune="00004")  # did not opt in
    far = factory.user(Role.OFFICER, commune="00070")  # opted in, its ward has one overdue
    quiet = factory.user(Role.OFFICER, commune="00008")  # opted in, its ward has nothing overdue
    for user, address in ((reader, "doc@congan.test"), (other, "khac@congan.test"), (far, "xa@congan.test")):
        user.email = address
    quiet.email = "yen@congan.test"
    db.session.commit()

    # Opting in: the officer's own account page.
    for user in (reader, far, quiet):
        client = client_as(app, user)
        page = client.get("/tai-khoan/").get_data(as_text=True)
        assert "Bản tin sáng" in page
        answer = client.post("/tai-khoan/ban-tin-sang", data={"police_digest": "on", "csrf_token": csrf_token(client)})
        assert answer.status_code == 303
    db.session.expire_all()
    assert reader.police_digest and not other.police_digest

    job = digest.schedule(now)  # the scheduler's step at 07:30
    db.session.commit()
    again = digest.schedule(now)  # a second worker's scheduler, the same morning
    db.session.commit()
    assert again.id == job.id

    by_address = {m["To"]: Sink.text(m) for m in smtp_sink.messages}
    assert sorted(by_address) == ["doc@congan.test", "xa@congan.test"]
    text = by_address["doc@congan.test"]
    assert "Nhà nghỉ Quá Hạn" in text and ": 2, " in text
    assert "Đúng Hạn" not in text and "Xã Khác" not in text
    assert "Khách Một" not in text and "Khách Hai" not in text  # counts, no personal data
    assert "Nhà nghỉ Xã Khác" in by_address["xa@congan.test"]

    # The ward's job run again (a worker that lost its lease): nothing more leaves.
    for ward_job in db.session.query(Job).filter(Job.name == "police_digest_ward"):
        execute(app, ward_job.id)
    assert len(smtp_sink.messages) == 2


def test_only_police_may_choose_the_digest(app: Flask, factory: Factory) -> None:
    est = factory.establishment()
    clerk = client_as(app, factory.user(Role.CLERK, establishment=est))
    answer = clerk.post("/tai-khoan/ban-tin-sang", data={"police_digest": "on", "csrf_token": csrf_token(clerk)})
    assert answer.status_code in (403, 404)
    assert "Bản tin sáng" not in clerk.get("/tai-khoan/").get_data(as_text=True)
