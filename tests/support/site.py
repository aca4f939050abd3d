"""The whole site with real data, for the tests that visit every page (issue 17): the demo world (asm/demo) at a
fixed moment, plus what the demo does not make (a stay extended and moved, a paired kiosk, a watch-list alert,
a finished police report), and the pages of the URL map with real values for their parameters.

`site_pages(app, world)` reads the URL map (the same one tests/web/test_access.py checks), fills each GET route's
parameters from `SiteWorld.values` and asks, with the Flask test client, which of the demo's users gets the page:
a route is either a full HTML page (then it is checked in the browser, as the first user who may open it), a file
or a fragment (PDF, CSV, JSON, an htmx partial: the scans of tests/test_words_and_dates.py read those), reached
only in a journey (JOURNEYS), or a failure that names what to add here. A new page is checked without an edit.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from asm.accounts.models import User
from asm.clock import VN_TZ, local_today
from asm.common import Actor
from asm.demo.services import PASSWORD, load_demo
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.hospital.models import Carer, Ward
from asm.people.services import PersonInput
from asm.police.models import JobState, ReportJob
from asm.stays import services as stay_services
from asm.stays.models import EventKind, Source, Stay, StayEvent, StayStatus
from tests.conftest import csrf_token
from tests.support.desk import new_client

# A Friday night just past the 23:00 deadline (the README screenshots' moment): a draft left unfiled is overdue.
DEMO_NOW = datetime(2026, 11, 20, 23, 15, tzinfo=VN_TZ)
HOTEL = "HN-KS-HOANGGIA"
HOSPITAL = "HN-BV-HOANKIEM"
# Who may open what, tried in this order: each page is checked as the first of them who gets it (staff first: their
# pages hold the most controls).
IDENTITIES = (
    "letan.hoanggia",
    "letan.benhvien",
    "chu.hoanggia",
    "chu.benhvien",
    "ca.hoankiem",
    "catinh.hanoi",
    "admin",
    "kiosk",
)
# Routes that serve files, not pages.
FILES = {"static", "kiosk.static", "web.vendor", "reminders.manifest"}
# Pages reached only in the middle of a journey (the second factor of a login): checked by their own tests.
JOURNEYS = {
    "accounts.second_factor": "tests/browser/test_accessibility.py::test_login_journey_pages",
    "accounts.enrol_at_login": "tests/browser/test_accessibility.py::test_login_journey_pages",
    # One-time links (issue 16): an invitation's and a password reset's.
    "joining.accept": "tests/browser/test_joining_browser.py::test_the_public_joining_pages_pass_axe_in_both_languages",
    "joining.reset": "tests/browser/test_joining_browser.py::test_the_public_joining_pages_pass_axe_in_both_languages",
}
LOGIN_PAGES = ("/dang-nhap", "/kiosk/ghep-noi")  # where a user who may not open a page is sent
PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
WATCHED = "001090012345"  # a document number on the ward's watch list; its holder checks in: an alert
KIOSK_PIN = "4826"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class SiteWorld:
    app: Flask
    clients: dict[str, FlaskClient] = field(default_factory=dict)

    def __post_init__(self) -> None:
        counts = load_demo(now=DEMO_NOW)
        assert counts["stays"] > 0
        db.session.commit()
        self.hotel = self.establishment(HOTEL)
        self.hospital = self.establishment(HOSPITAL)
        clerk = self.user("letan.hoanggia")
        actor = Actor(label=clerk.full_name, user_id=clerk.id)
        # A hotel guest whose stay was extended and who changed rooms: the history shows both.
        stay = self._open_stays(self.hotel)[0]
        at = DEMO_NOW - timedelta(hours=1)
        until = max(stay.expected_departure or local_today(at), local_today(at)) + timedelta(days=3)
        stay_services.extend(stay, until=until, actor=actor, now=at)
        free = next(r for r in self.hotel.rooms if r.id not in {s.room_id for s in self._open_stays(self.hotel)})
        stay_services.move(stay, room_id=free.id, actor=actor, now=at + timedelta(minutes=5))
        db.session.commit()
        self.hotel_stay = stay
        # The hospital: a patient moved to another bed (in house) and one discharged.
        patients = [s for s in self._stays(self.hospital) if s.role == "patient"]
        self.moved_patient = next(s for s in patients if any(e.kind == EventKind.MOVE for e in s.events))
        self.discharged_patient = next(s for s in patients if s.status == StayStatus.CHECKED_OUT)
        self.carer = db.session.scalars(
            select(Carer).join(Stay, Carer.stay_id == Stay.id).where(Stay.status == StayStatus.IN_HOUSE)
        ).first()
        assert self.carer is not None
        self.ward = db.session.scalars(select(Ward).where(Ward.establishment_id == self.hospital.id)).first()

    # --- reads ---------------------------------------------------------------------------------------------------

    def establishment(self, code: str) -> Establishment:
        est = db.session.scalar(select(Establishment).where(Establishment.code == code))
        assert est is not None, code
        return est

    def user(self, username: str) -> User:
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        return user

    def _stays(self, est: Establishment) -> list[Stay]:
        return list(db.session.scalars(select(Stay).where(Stay.establishment_id == est.id).order_by(Stay.id)))

    def _open_stays(self, est: Establishment) -> list[Stay]:
        return [s for s in self._stays(est) if s.status == StayStatus.IN_HOUSE and s.room_id is not None]

    def foreign_stay(self, code: str) -> Stay | None:
        est = self.establishment(code)
        return next((s for s in self._stays(est) if s.person.doc_type == "passport"), None)

    def receipt_of(self, stay: Stay) -> str:
        receipt = db.session.scalar(
            select(StayEvent.receipt_no)
            .where(StayEvent.stay_id == stay.id, StayEvent.receipt_no.is_not(None))
            .order_by(StayEvent.id)
        )
        assert receipt, stay.id
        return receipt

    # --- clients (the Flask test client, as each demo user) ------------------------------------------------------

    def client(self, identity: str) -> FlaskClient:
        if identity not in self.clients:
            client = new_client(self.app)
            if identity == "kiosk":
                self._pair_kiosk(client)
            else:
                data = {"username": identity, "password": PASSWORD, "csrf_token": csrf_token(client)}
                response = client.post("/dang-nhap", data=data)
                assert response.status_code == 302, (identity, response.status_code)
            self.clients[identity] = client
        return self.clients[identity]

    def pairing_code(self) -> str:
        """Register a kiosk on the hotel owner's page; the page shows its one-time pairing code."""
        owner = self.client("chu.hoanggia")
        data = {
            "name": "Sảnh tầng 1",
            "flows": ["hotel_check_in", "check_out"],
            "pin": KIOSK_PIN,
            "idle_seconds": "300",
            "csrf_token": csrf_token(owner),
        }
        response = owner.post(f"/co-so/{HOTEL}/kiosk/", data=data)
        assert response.status_code == 200, response.status_code
        match = re.search(r'id="pairing-code">([0-9A-Z]{4}-[0-9A-Z]{4})<', response.get_data(as_text=True))
        assert match
        return match.group(1)

    def _pair_kiosk(self, client: FlaskClient) -> None:
        response = client.post("/kiosk/ghep-noi", data={"code": self.pairing_code(), "csrf_token": csrf_token(client)})
        assert response.status_code == 303, response.status_code

    # --- police objects made through the pages --------------------------------------------------------------------

    def police_extras(self) -> None:
        """A watch-list entry whose holder then checks in at the hotel (an alert), and a finished report."""
        assert self.app.config.get("POLICE_REPORT_DIR"), "set POLICE_REPORT_DIR to a temporary folder"
        officer = self.client("ca.hoankiem")
        response = officer.post(
            "/cong-an/theo-doi",
            data={"numbers": WATCHED, "note": "Theo dõi theo yêu cầu", "csrf_token": csrf_token(officer)},
        )
        assert response.status_code in (302, 303), response.status_code
        clerk = self.user("letan.hoanggia")
        person = PersonInput(
            doc_type="cccd",
            doc_number=WATCHED,
            full_name="Đỗ Văn Theo",
            birth_date=datetime(1990, 1, 1).date(),
            sex="M",
        )
        free = next(r for r in self.hotel.rooms if r.id not in {s.room_id for s in self._open_stays(self.hotel)})
        stay_services.check_in(
            self.hotel,
            stay_services.CheckInInput(guests=[person], arrived_at=DEMO_NOW, reason="Du lịch", room_id=free.id),
            actor=Actor(label=clerk.full_name, user_id=clerk.id),
            now=DEMO_NOW,
            source=Source.DESK,
        )
        db.session.commit()
        self.job_page = self.report("register", "pdf", HOSPITAL)
        self.job = db.session.get(ReportJob, int(self.job_page.url.split("/")[-2]))

    def report(self, kind: str, fmt: str, establishment: str | None) -> SitePage:
        """A report of the last week asked for on the officer's page and made by its background job; its download."""
        officer = self.client("ca.hoankiem")
        data = {
            "kind": kind,
            "fmt": fmt,
            "from": (DEMO_NOW - timedelta(days=7)).date().isoformat(),
            "to": DEMO_NOW.date().isoformat(),
            "scope": "establishment" if establishment else "commune",
            "establishment": establishment or HOTEL,
            "commune": self.hotel.commune_code,
            "csrf_token": csrf_token(officer),
        }
        response = officer.post("/cong-an/bao-cao", data=data)
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
        job_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
        for _ in range(1200):
            db.session.expire_all()
            job = db.session.get(ReportJob, job_id)
            if job is not None and job.state in (JobState.DONE, JobState.FAILED):
                break
            time.sleep(0.05)
        assert job is not None and job.state == JobState.DONE, job and job.error
        mimetype = {"pdf": "application/pdf", "csv": "text/csv", "xlsx": XLSX}[fmt]
        return SitePage("police.report_download", f"/cong-an/bao-cao/{job_id}/tai-ve", "ca.hoankiem", mimetype)

    # --- the URL map ---------------------------------------------------------------------------------------------

    def values(self, rule: str) -> Iterator[dict[str, str]]:
        """Real values for a rule's parameters: one dict per page to check (a /co-so/ page for the hotel and for the
        hospital)."""
        codes = [HOSPITAL] if rule.startswith("/benh-vien/") else [HOTEL, HOSPITAL]
        # The offline desk, its manifest and service worker are a lodging's (404 for a hospital).
        if "/ngoai-tuyen" in rule or rule.endswith(("/sw.js", "/ung-dung.webmanifest")):
            codes = [HOTEL]
        for code in codes:
            hospital = code == HOSPITAL
            stay = self.moved_patient if hospital else self.hotel_stay
            if "/the/" in rule or "/nguoi-cham-soc/" in rule:
                stay = self.carer.stay
            if "/nguoi-nuoc-ngoai/<" in rule:  # a foreigner's stay: the demo hotel has some, its hospital none
                foreign = self.foreign_stay(code)
                if foreign is None:
                    continue
                stay = foreign
            yield {
                "code": code,
                "stay_id": str(stay.id),
                "receipt_no": self.receipt_of(stay),
                "ward_id": str(self.ward.id),
                "token": self.carer.card_token,
                "job_id": str(self.job.id),
                "person_id": str(self.hotel_stay.person_id),
                "user_id": str(self.user("letan.hoanggia").id),
                "figure": "in_house",
                "fmt": "csv",
            }

    def urls(self, rule: str) -> list[str]:
        names = PARAM.findall(rule)
        if not names:
            return [rule]
        found = []
        for values in self.values(rule):
            missing = [n for n in names if n not in values]
            if missing:
                pytest.fail(f"{rule}: no value for <{'>, <'.join(missing)}>; add one to SiteWorld.values")
            url = PARAM.sub(lambda m, values=values: values[m[1]], rule)
            if url not in found:
                found.append(url)
        return found


@dataclass(frozen=True)
class SitePage:
    endpoint: str
    url: str
    identity: str  # who opens it
    kind: str  # "page" (a full HTML page), "fragment" (an htmx partial), "redirect", or a file's mimetype


# Pages worth checking in a second state or as a second user, beside what the URL map gives.
def extra_pages(world: SiteWorld) -> list[SitePage]:
    patient = world.discharged_patient
    return [
        SitePage("hospital.patient", f"/benh-vien/{HOSPITAL}/benh-nhan/{patient.id}", "letan.benhvien", "page"),
        SitePage("stays.in_house", f"/co-so/{HOSPITAL}/", "ca.hoankiem", "page"),  # the police's view of the hospital
        SitePage("stays.detail", f"/co-so/{HOSPITAL}/luu-tru/{patient.id}", "ca.hoankiem", "page"),
        SitePage("stays.history", f"/co-so/{HOSPITAL}/lich-su", "ca.hoankiem", "page"),
        SitePage("police.dashboard", "/cong-an/", "catinh.hanoi", "page"),
        SitePage("police.figure_list", "/cong-an/danh-sach/overdue", "ca.hoankiem", "page"),
        SitePage("police.figure_list", "/cong-an/danh-sach/most_late", "ca.hoankiem", "page"),
        SitePage(
            "police.person",
            f"/cong-an/nguoi/{world.hotel_stay.person_id}?ly_do=Xác minh tin báo",
            "ca.hoankiem",
            "page",
        ),
    ]


def classify(response: Any) -> str:
    if response.mimetype != "text/html":
        return response.mimetype
    text = response.get_data(as_text=True).lstrip().lower()
    return "page" if text.startswith("<!doctype html") else "fragment"


def site_pages(app: Flask, world: SiteWorld) -> list[SitePage]:
    """Every GET route of the URL map, resolved to the first identity that opens it (see the module's docstring)."""
    pages: list[SitePage] = []
    unreachable: list[str] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        access = getattr(view, "access_rule", None)
        if "GET" not in (rule.methods or ()) or rule.endpoint in FILES or access == ("api_token",):
            continue
        for url in world.urls(rule.rule):
            for identity in IDENTITIES if access != ("public",) else (None,):
                client = world.client(identity) if identity else new_client(app)
                response = client.get(url)
                response.close()  # a file sent from disk (a report) is open until then
                location = response.headers.get("Location", "")
                redirect = response.status_code in (302, 303) and not any(p in location for p in LOGIN_PAGES)
                if response.status_code == 200 or redirect:
                    kind = "redirect" if redirect else classify(response)
                    pages.append(SitePage(rule.endpoint, url, identity or "anonymous", kind))
                    break
            else:
                if rule.endpoint not in JOURNEYS:
                    unreachable.append(f"{url} ({rule.endpoint})")
    assert not unreachable, (
        f"no demo user gets these pages: {unreachable}; give their parameters real values in SiteWorld.values, or "
        "name the journey that reaches them in JOURNEYS (tests/support/site.py)"
    )
    return pages + extra_pages(world)
