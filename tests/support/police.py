"""A small police world for the tests of asm/police: two wards of Hà Nội and one of TP Hồ Chí Minh, their
establishments, guests filed through the same services the desk and the API use, and the police of each area.

Ward A = Phường Ba Đình (00004, Hà Nội 01): EST-A (hotel) and EST-B (guesthouse).
Ward O = Phường Hoàn Kiếm (00070, Hà Nội 01): EST-O.
Ward F = Phường Thủ Dầu Một (25747, TP Hồ Chí Minh 79): EST-F.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from asm.accounts.models import Role, User
from asm.clock import local_today, utcnow
from asm.common import Actor
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.people.services import PersonInput
from asm.stays import services
from asm.stays.models import Stay
from tests.conftest import Factory, csrf_token
from tests.support.desk import client_as

WARD_A, WARD_O, WARD_F = "00004", "00070", "25747"
PROVINCE_A, PROVINCE_F = "01", "79"
ACTOR = Actor.system("test")
_serial = itertools.count(100001)

# Names with every kind of Vietnamese diacritic, to read back from PDFs.
NAMES_A = ("Nguyễn Thị Hoa", "Trần Văn Nam", "Lê Hoàng Ánh", "Phạm Thị Thu Hường", "Đặng Quốc Bảo", "Vũ Ngọc Ẩn")
NAME_O = "Hoàng Thị Khác Phường"
NAME_F = "Bùi Văn Tỉnh Xa"


def cccd(birth: date, sex: str = "M", province: str = "001") -> str:
    """A valid 12-digit ID number for this birth date and sex (digit 4 = century and sex, 5–6 = year)."""
    century = (birth.year // 100 - 19) * 2 + (1 if sex == "F" else 0)
    return f"{province}{century}{birth.year % 100:02d}{next(_serial):06d}"


def guest(name: str, *, birth: date = date(1990, 5, 17), sex: str = "M", nationality: str = "VNM") -> PersonInput:
    if nationality != "VNM":
        return PersonInput(
            doc_type="passport",
            doc_number=f"P{next(_serial):07d}",
            full_name=name,
            birth_date=birth,
            sex=sex,
            nationality=nationality,
        )
    return PersonInput(doc_type="cccd", doc_number=cccd(birth, sex), full_name=name, birth_date=birth, sex=sex)


def file_stay(
    est: Establishment,
    guests: list[PersonInput],
    *,
    arrived: datetime,
    filed: datetime | None,
    expected: date | None = None,
) -> list[Stay]:
    """A stay (or group) that arrived at `arrived` and was filed at `filed` (None: a draft never filed)."""
    if filed is None:
        data = services.CheckInInput(guests=guests, arrived_at=arrived, reason="Du lịch", expected_departure=expected)
        data.file_now = False
        result = services.check_in(est, data, actor=ACTOR, now=arrived + timedelta(minutes=1))
    elif filed <= services.deadline_for(arrived):
        data = services.CheckInInput(guests=guests, arrived_at=arrived, reason="Du lịch", expected_departure=expected)
        result = services.check_in(est, data, actor=ACTOR, now=filed)
    else:  # recorded as a draft on arrival, filed late
        data = services.CheckInInput(
            guests=guests, arrived_at=arrived, reason="Du lịch", expected_departure=expected, file_now=False
        )
        result = services.check_in(est, data, actor=ACTOR, now=arrived + timedelta(minutes=1))
        for stay in result.stays:
            services.file_draft(stay, actor=ACTOR, now=filed)
    db.session.commit()
    return result.stays


@dataclass
class PoliceWorld:
    app: Flask
    factory: Factory
    now: datetime = field(default_factory=utcnow)
    users: dict[str, User] = field(default_factory=dict)
    clients: dict[str, FlaskClient] = field(default_factory=dict)

    def __post_init__(self) -> None:
        f = self.factory
        self.est_a = f.establishment(code="EST-A", name="Khách sạn Hoàng Gia", commune=WARD_A, type="hotel")
        self.est_b = f.establishment(code="EST-B", name="Nhà nghỉ Bình Yên", commune=WARD_A, type="guesthouse")
        self.est_o = f.establishment(code="EST-O", name="Khách sạn Phố Cổ", commune=WARD_O, type="hotel")
        self.est_f = f.establishment(code="EST-F", name="Nhà nghỉ Sông Sài Gòn", commune=WARD_F, type="guesthouse")
        now = self.now
        # Ward A (filed at the arrival itself = on time, whatever the hour): Hoa in house since 2 hours, ...
        self.hoa = file_stay(
            self.est_a,
            [guest(NAMES_A[0], birth=date(2003, 3, 21), sex="F")],
            arrived=now - timedelta(hours=2),
            filed=now - timedelta(hours=2),
        )[0]
        # ... a foreigner filed late (arrived 3 days ago, filed the day after), ...
        self.late = file_stay(
            self.est_a,
            [guest("Kim Min Jun", nationality="KOR")],
            arrived=now - timedelta(days=3),
            filed=now - timedelta(days=2) + timedelta(hours=10),
        )[0]
        # ... a group of two never filed (deadline passed), ...
        self.missing = file_stay(
            self.est_b, [guest(NAMES_A[1]), guest(NAMES_A[2], sex="F")], arrived=now - timedelta(days=2), filed=None
        )
        # ... a guest past the expected departure who never checked out, ...
        self.no_checkout = file_stay(
            self.est_b,
            [guest(NAMES_A[3], sex="F")],
            arrived=now - timedelta(days=6),
            filed=now - timedelta(days=6),
            expected=(now - timedelta(days=2)).date(),
        )[0]
        # ... and one who came and left (checked out yesterday).
        self.left = file_stay(
            self.est_a, [guest(NAMES_A[4])], arrived=now - timedelta(days=4), filed=now - timedelta(days=4)
        )[0]
        services.check_out(self.left, at=now - timedelta(days=1), actor=ACTOR, now=now - timedelta(days=1))
        db.session.commit()
        # Other wards: a guest each.
        self.stay_o = file_stay(
            self.est_o, [guest(NAME_O, sex="F")], arrived=now - timedelta(hours=3), filed=now - timedelta(hours=3)
        )[0]
        self.stay_f = file_stay(
            self.est_f, [guest(NAME_F)], arrived=now - timedelta(hours=3), filed=now - timedelta(hours=3)
        )[0]

    @property
    def names_a(self) -> list[str]:
        return [NAMES_A[0], "Kim Min Jun", NAMES_A[1], NAMES_A[2], NAMES_A[3], NAMES_A[4]]

    def user(self, name: str) -> User:
        if name not in self.users:
            f = self.factory
            make: dict[str, Any] = {
                "officer_a": lambda: f.user(Role.OFFICER, commune=WARD_A),
                "officer_o": lambda: f.user(Role.OFFICER, commune=WARD_O),
                "officer_f": lambda: f.user(Role.OFFICER, commune=WARD_F),
                "supervisor_a": lambda: f.user(Role.SUPERVISOR, province=PROVINCE_A),
                "supervisor_f": lambda: f.user(Role.SUPERVISOR, province=PROVINCE_F),
                "clerk_a": lambda: f.user(Role.CLERK, establishment=self.est_a),
                "admin": lambda: f.user(Role.ADMIN),
            }
            self.users[name] = make[name]()
        return self.users[name]

    def client(self, name: str) -> FlaskClient:
        if name not in self.clients:
            self.clients[name] = client_as(self.app, self.user(name))
        return self.clients[name]


def wait_for_job(client: FlaskClient, job_url: str, *, tries: int = 600) -> str:
    """Poll the job's progress partial (as the page does with htmx) until it is done; return the download URL."""
    import re
    import time

    progress_url = job_url.rstrip("/") + "/tien-do"
    for _ in range(tries):
        body = client.get(progress_url, headers={"HX-Request": "true"}).get_data(as_text=True)
        match = re.search(r'href="([^"]+/tai-ve)"', body)
        if match:
            return match.group(1)
        if "field-error" in body:
            raise AssertionError(f"report failed: {body}")
        time.sleep(0.05)
    raise AssertionError("report not done in time")


def report_period() -> tuple[str, str]:
    """The reports page's default: the last 30 days."""
    today = local_today()
    return (today - timedelta(days=29)).isoformat(), today.isoformat()


def download_report(world: PoliceWorld, who: str, **fields: str) -> tuple[bytes, dict[str, str]]:
    """Ask for a report on the reports page, wait for the job as the page does, download it: (file, headers)."""
    client = world.client(who)
    start, end = report_period()
    data = {"from": start, "to": end, "fmt": "pdf", **fields, "csrf_token": csrf_token(client)}
    response = client.post("/cong-an/bao-cao", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    job_url = response.headers["Location"]
    assert client.get(job_url).status_code == 200
    download = wait_for_job(client, job_url)
    response = client.get(download)
    assert response.status_code == 200
    body, headers = response.data, dict(response.headers)
    response.close()  # send_file streams from the file: close it as the WSGI server would
    return body, headers
