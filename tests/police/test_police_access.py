"""Every police route, generated from the URL map: the police of another ward or province, other roles, and the
establishments' API tokens get nothing of ward A's data, with the real ids of ward A's objects in the URL and a
valid body; the ward's own officer (the control) gets it."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from asm.extensions import db
from asm.police.models import Alert, ReportJob, WatchEntry
from tests.conftest import CARD, Factory, csrf_token
from tests.support.desk import NAME_1, new_client, use_fast_password_hashes
from tests.support.police import NAMES_A, WARD_A, PoliceWorld, wait_for_job
from tests.web.test_access import URL_MAP

PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
POLICE_ROUTES = [
    pytest.param(rule, endpoint, method, id=f"{method} {rule}")
    for rule, endpoint, methods in URL_MAP
    if endpoint.startswith("police.")
    for method in sorted(set(methods) & {"GET", "POST"})
]
OUTSIDERS = ("officer_o", "officer_f", "supervisor_f", "clerk_a", "admin")
ADMIN_ONLY = {"police.officers"}
SUPERVISOR_ONLY = {"police.access_log"}


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch, app: Flask, tmp_path: Any) -> None:
    use_fast_password_hashes(monkeypatch)
    app.config["POLICE_REPORT_DIR"] = str(tmp_path / "reports")


class AccessWorld(PoliceWorld):
    """PoliceWorld plus ward A's police objects: a watch entry, an alert (a stay filed through the API), a report."""

    def setup_police(self) -> None:
        officer = self.client("officer_a")
        data = {"file": (io.BytesIO(b"034303011829\n"), "ds.csv"), "note": "Theo dõi phường A"}
        response = officer.post("/cong-an/theo-doi", data={**data, "csrf_token": csrf_token(officer)})
        assert response.status_code == 303
        token = self.factory.token(self.est_a)
        response = new_client(self.app).post(
            "/api/v1/stays",
            json={"guests": [{"qr": CARD}], "reason": "Du lịch"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201
        self.api_token = token
        self.entry = db.session.scalars(select(WatchEntry)).one()
        self.alert = db.session.scalars(select(Alert)).one()
        start, end = self.period()
        response = officer.post(
            "/cong-an/bao-cao",
            data={"kind": "establishment", "fmt": "pdf", "establishment": "EST-A", "from": start, "to": end,
                  "csrf_token": csrf_token(officer)},
        )  # fmt: skip
        wait_for_job(officer, response.headers["Location"])
        self.job = db.session.scalars(select(ReportJob)).one()
        self.person_id = self.alert.stay.person_id
        self.secrets = [*NAMES_A, NAME_1, "Kim Min Jun", "034303011829", "Khách sạn Hoàng Gia", "Nhà nghỉ Bình Yên"]
        self.secrets += [self.late.person.doc_number, self.missing[0].person.doc_number, "Theo dõi phường A"]

    @staticmethod
    def period() -> tuple[str, str]:
        from datetime import timedelta

        from asm.clock import local_today

        today = local_today()
        return (today - timedelta(days=29)).isoformat(), today.isoformat()

    def url(self, rule: str, endpoint: str) -> str:
        values = {
            "figure": "in_house",
            "person_id": str(self.person_id),
            "entry_id": str(self.entry.id),
            "alert_id": str(self.alert.id),
            "action": "dong",
            "job_id": str(self.job.id),
        }
        url = PARAM.sub(lambda m: values[m[1]], rule)
        if endpoint == "police.person":
            url += "?ly_do=Kiểm+tra+chéo+phường"
        return url

    def body(self, endpoint: str) -> dict[str, Any]:
        start, end = self.period()
        return {
            "police.search": {"doc_number": "034303011829", "reason": "Tra cứu thử ngoài địa bàn"},
            "police.watch_list": {"numbers": "034303011829", "note": "Thêm trùng"},
            "police.report_form": {"kind": "register", "fmt": "csv", "scope": "commune", "commune": "00004",
                                   "establishment": "EST-A", "from": start, "to": end},
            "police.alert_action": {"note": "Đóng hộ"},
            "police.officers": {"user_id": str(self.user("officer_a").id), "commune": "00070"},
        }.get(endpoint, {})  # fmt: skip

    def state(self) -> tuple[Any, ...]:
        db.session.expire_all()
        alert = db.session.get(Alert, self.alert.id)
        entry = db.session.get(WatchEntry, self.entry.id)
        officer = self.user("officer_a")
        jobs = db.session.scalar(select(func.count(ReportJob.id)).where(ReportJob.user_id == officer.id))
        entries = db.session.scalar(select(func.count(WatchEntry.id)).where(WatchEntry.commune_code == WARD_A))
        return alert.state, alert.closed_by_id, entry.active, officer.commune_code, jobs, entries  # type: ignore[union-attr]

    def request(self, who: str, method: str, rule: str, endpoint: str) -> Any:
        client = self.client(who)
        url = self.url(rule, endpoint)
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={**self.body(endpoint), "csrf_token": csrf_token(client)})
        response.close()
        return response


@pytest.fixture
def world(app: Flask, factory: Factory) -> AccessWorld:
    world = AccessWorld(app, factory)
    world.setup_police()
    return world


def test_every_police_route_is_checked_here() -> None:
    assert len(POLICE_ROUTES) >= 15
    assert {e for _r, e, _m in URL_MAP if e.startswith("police.")} >= {"police.dashboard", "police.report_download"}


@pytest.mark.parametrize(("rule", "endpoint", "method"), POLICE_ROUTES)
def test_outsiders_get_nothing_of_the_ward(world: AccessWorld, rule: str, endpoint: str, method: str) -> None:
    before = world.state()
    for who in OUTSIDERS:
        if who == "admin" and endpoint in ADMIN_ONLY:
            continue  # the admin's own page (assigning areas), checked below
        response = world.request(who, method, rule, endpoint)
        body = response.get_data(as_text=True) if response.mimetype.startswith("text") else ""
        assert not response.data.startswith(b"%PDF") and b"PK\x03\x04" not in response.data[:4], who
        sent = " ".join(world.body(endpoint).values())  # a form may echo what the user typed
        for secret in world.secrets:
            assert secret in sent or secret not in body, (who, secret)
        if (
            who in ("clerk_a", "admin")
            or (endpoint in ADMIN_ONLY)
            or (endpoint in SUPERVISOR_ONLY and "officer" in who)
        ):
            assert response.status_code == 403, (who, response.status_code)
        else:
            assert response.status_code in (200, 303, 403, 404, 422), (who, response.status_code)
    assert world.state() == before


@pytest.mark.parametrize(("rule", "endpoint", "method"), POLICE_ROUTES)
def test_an_establishment_token_reaches_no_police_route(
    world: AccessWorld, rule: str, endpoint: str, method: str
) -> None:
    client = new_client(world.app)
    response = client.open(
        world.url(rule, endpoint), method=method, headers={"Authorization": f"Bearer {world.api_token}"}
    )
    assert response.status_code in (302, 400)  # to the login page (or a POST refused for want of CSRF)
    body = response.get_data(as_text=True)
    for secret in world.secrets:
        assert secret not in body


READ_ROUTES = [p for p in POLICE_ROUTES if p.values[2] == "GET" and p.values[1] not in ADMIN_ONLY | SUPERVISOR_ONLY]


@pytest.mark.parametrize(("rule", "endpoint", "method"), READ_ROUTES)
def test_the_wards_officer_gets_the_data(world: AccessWorld, rule: str, endpoint: str, method: str) -> None:
    """The control: the refusals above are the jurisdiction's doing."""
    response = world.request("officer_a", method, rule, endpoint)
    assert response.status_code == 200, (endpoint, response.status_code)


def test_the_admin_assigns_areas_and_police_cannot(world: AccessWorld) -> None:
    officer = world.user("officer_a")
    for who in ("officer_a", "supervisor_a"):
        client = world.client(who)
        response = client.post(
            "/cong-an/can-bo", data={"user_id": officer.id, "commune": "00070", "csrf_token": csrf_token(client)}
        )
        assert response.status_code == 403
    admin = world.client("admin")
    assert "Người dùng" in admin.get("/cong-an/can-bo").get_data(as_text=True)
    response = admin.post(
        "/cong-an/can-bo", data={"user_id": officer.id, "commune": "99999", "csrf_token": csrf_token(admin)}
    )
    assert response.status_code == 422
    response = admin.post(
        "/cong-an/can-bo", data={"user_id": officer.id, "commune": "00070", "csrf_token": csrf_token(admin)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(type(officer), officer.id).commune_code == "00070"
    # From now on the officer sees ward O, not ward A.
    body = world.client("officer_a").get("/cong-an/danh-sach/in_house").get_data(as_text=True)
    assert NAME_1 not in body and "Hoàng Thị Khác Phường" in body
