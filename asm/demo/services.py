"""Demo data: establishments in three provinces, their staff, ward police, and a few hundred stays.

Everything is written through the same services as the pages, with the clock of each moment, so the
demo history is what real use would leave (late filings, drafts left overdue, guests never checked out).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from asm.accounts.models import Role, User
from asm.accounts.services import create_user
from asm.clock import VN_TZ, local_today
from asm.common import Actor, ValidationError
from asm.demo.people import FOREIGN, fake_person
from asm.establishments.models import Establishment
from asm.establishments.services import create_establishment
from asm.extensions import db
from asm.geo.services import load_units
from asm.people.services import PersonInput
from asm.stays import services
from asm.stays.models import Source, Stay, StayStatus

PASSWORD = "demo1234"


@dataclass(frozen=True)
class DemoPlace:
    code: str
    slug: str
    name: str
    type: str
    address: str
    commune: str
    rooms: tuple[str, ...]


PLACES = (
    DemoPlace(
        "HN-KS-HOANGGIA",
        "hoanggia",
        "Khách sạn Hoàng Gia",
        "hotel",
        "18 Hàng Bè, Phường Hoàn Kiếm, Hà Nội",
        "00070",
        tuple(f"{f}{n:02d}" for f in (1, 2, 3) for n in range(1, 9)),
    ),
    DemoPlace(
        "HN-NN-BADINH",
        "badinh",
        "Nhà nghỉ Ba Đình Xanh",
        "guesthouse",
        "7 Ngõ Trúc Lạc, Phường Ba Đình, Hà Nội",
        "00004",
        tuple(str(n) for n in range(1, 11)),
    ),
    DemoPlace(
        "HN-BV-HOANKIEM",
        "benhvien",
        "Bệnh viện Đa khoa Hoàn Kiếm",
        "hospital",
        "26 Phan Chu Trinh, Phường Hoàn Kiếm, Hà Nội",
        "00070",
        tuple(f"K{k}-G{n:02d}" for k in (1, 2) for n in range(1, 9)),
    ),
    DemoPlace(
        "HCM-KS-BENTHANH",
        "benthanh",
        "Khách sạn Bến Thành Riverside",
        "hotel",
        "102 Lê Thánh Tôn, Phường Bến Thành, TP Hồ Chí Minh",
        "26743",
        tuple(f"{f}{n:02d}" for f in (1, 2, 3, 4) for n in range(1, 7)),
    ),
    DemoPlace(
        "HCM-HS-SAIGON",
        "saigon",
        "Sài Gòn Xưa Homestay",
        "homestay",
        "5 Nguyễn Huệ, Phường Sài Gòn, TP Hồ Chí Minh",
        "26740",
        ("Phòng Sen", "Phòng Lan", "Phòng Cúc", "Phòng Trúc"),
    ),
    DemoPlace(
        "HCM-KTX-SAIGON",
        "ktx",
        "Ký túc xá Sinh viên Sài Gòn",
        "dormitory",
        "20 Tôn Đức Thắng, Phường Sài Gòn, TP Hồ Chí Minh",
        "26740",
        tuple(f"A{n}" for n in range(1, 13)),
    ),
    DemoPlace(
        "LC-HS-SAPA",
        "sapa",
        "Homestay Mây Sa Pa",
        "homestay",
        "Tổ 3, Phường Sa Pa, Lào Cai",
        "03006",
        ("Gác 1", "Gác 2", "Gác 3", "Nhà sàn"),
    ),
)
POLICE = (
    ("ca.hoankiem", "Đại úy Trần Minh Đức", "00070"),
    ("ca.badinh", "Thượng úy Lê Thu Hà", "00004"),
    ("ca.benthanh", "Đại úy Phạm Quốc Bảo", "26743"),
    ("ca.saigon", "Trung úy Võ Thị Ngọc", "26740"),
    ("ca.sapa", "Thiếu tá Giàng A Páo", "03006"),
)
SUPERVISORS = (
    ("catinh.hanoi", "Trung tá Nguyễn Văn Hưng", "01"),
    ("catinh.hcm", "Trung tá Đỗ Thị Lan", "79"),
    ("catinh.laocai", "Thiếu tá Hoàng Văn Sinh", "15"),
)
REASONS = ("Du lịch", "Du lịch", "Công tác", "Thăm thân", "Học tập")


def demo_loaded() -> bool:
    return db.session.scalar(select(User.id).where(User.username == "admin")) is not None


def load_demo(*, now: datetime, seed: int = 2025, days: int = 14) -> dict[str, int]:
    """Create the demo world. Refuses to run twice (the admin user is the marker)."""
    if demo_loaded():
        return {}
    load_units()
    rng = random.Random(seed)
    create_user(
        username="admin", password=PASSWORD, check_password=False, role=Role.ADMIN, full_name="Quản trị hệ thống"
    )
    clerks = []
    for place in PLACES:
        est = create_establishment(
            code=place.code,
            name=place.name,
            type=place.type,
            address=place.address,
            commune_code=place.commune,
            licence_no=f"0{rng.randrange(10**9):09d}",
            rooms=list(place.rooms),
        )
        est.reminder_email = f"chu.{place.slug}@example.vn"  # the owner's address for deadline reminders (issue 14)
        create_user(
            username=f"chu.{place.slug}",
            password=PASSWORD,
            check_password=False,  # the demo's well-known password: demo only, never in production
            role=Role.OWNER,
            full_name=f"Chủ {place.name}",
            establishments=[est],
        )
        clerk = create_user(
            username=f"letan.{place.slug}",
            password=PASSWORD,
            check_password=False,  # the demo's well-known password: demo only, never in production
            role=Role.CLERK,
            full_name=f"Lễ tân {place.name}",
            establishments=[est],
        )
        clerks.append((est, clerk))
    for username, name, commune in POLICE:
        create_user(
            username=username,
            password=PASSWORD,
            check_password=False,
            role=Role.OFFICER,
            full_name=name,
            commune_code=commune,
        )
    for username, name, province in SUPERVISORS:
        create_user(
            username=username,
            password=PASSWORD,
            check_password=False,
            role=Role.SUPERVISOR,
            full_name=name,
            province_code=province,
        )
    db.session.flush()
    stays = 0
    for est, clerk in clerks:
        if est.type == "hospital":  # wards, beds, inpatients and carers (issue 4)
            from asm.hospital.demo import fill_demo_hospital

            stays += fill_demo_hospital(est, Actor(label=clerk.full_name, user_id=clerk.id), rng, now=now)
            continue
        stays += _fill_stays(est, Actor(label=clerk.full_name, user_id=clerk.id), rng, now=now, days=days)
    return {"establishments": len(clerks), "stays": stays}


def _guest(rng: random.Random, today: date) -> PersonInput:
    if rng.random() < 0.06:
        name, nationality, passport, sex = rng.choice(FOREIGN)
        return PersonInput(
            doc_type="passport",
            doc_number=passport,
            nationality=nationality,
            full_name=name,
            birth_date=date(1980 + rng.randrange(20), rng.randint(1, 12), rng.randint(1, 28)),
            sex=sex,
        )
    p = fake_person(rng, today=today)
    return PersonInput(
        doc_type="cccd",
        doc_number=p.id_number,
        full_name=p.full_name,
        birth_date=p.birth_date,
        sex=p.sex,
        address=p.address,
        id_issue_date=p.issue_date,
    )


def _fill_stays(est: Establishment, actor: Actor, rng: random.Random, *, now: datetime, days: int) -> int:
    today = local_today(now)
    count = 0
    arrivals = []
    for back in range(days, -1, -1):
        day = today - timedelta(days=back)
        for _ in range(rng.randint(1, 4)):
            at = datetime.combine(day, time(rng.randint(7, 23), rng.randint(0, 59)), VN_TZ)
            if at < now - timedelta(minutes=30):
                arrivals.append(at)
    # Two long stays that passed 30 days (temporary residence due), a few weeks before the rest.
    arrivals[:0] = [now - timedelta(days=33, hours=3), now - timedelta(days=31, hours=5)]
    for arrived in sorted(arrivals):
        group = [_guest(rng, today) for _ in range(1 if rng.random() < 0.75 else rng.randint(2, 4))]
        roll = rng.random()
        recent = now - arrived < timedelta(days=2)
        draft = recent and roll < 0.08
        late = not draft and roll > 0.9
        filed = arrived + (timedelta(hours=rng.randint(14, 30)) if late else timedelta(minutes=rng.randint(1, 40)))
        filed = min(filed, now)
        long_stay = now - arrived > timedelta(days=30)
        departure = arrived.date() + timedelta(days=40 if long_stay else rng.randint(1, 4))
        data = services.CheckInInput(
            guests=group,
            arrived_at=arrived,
            reason="Khám chữa bệnh" if est.type == "hospital" else rng.choice(REASONS),
            room_id=rng.choice(est.rooms).id,
            expected_departure=departure,
            file_now=not draft,
        )
        try:
            with db.session.begin_nested():
                result = services.check_in(est, data, actor=actor, now=filed, source=Source.DEMO)
        except ValidationError:
            continue  # a generated guest clashed with an open stay; the savepoint dropped them
        count += len(result.stays)
        for stay in result.stays:
            _maybe_leave(stay, rng, actor=actor, now=now)
    db.session.flush()
    return count


def _maybe_leave(stay: Stay, rng: random.Random, *, actor: Actor, now: datetime) -> None:
    """Guests whose departure day has passed leave at about noon, but a few are never checked out."""
    if stay.status != StayStatus.IN_HOUSE or stay.expected_departure is None:
        return
    leave = datetime.combine(stay.expected_departure, time(rng.randint(9, 13), rng.randint(0, 59)), VN_TZ)
    if leave < now and rng.random() > 0.04:
        services.check_out(stay, at=leave, actor=actor, now=leave + timedelta(minutes=5))
