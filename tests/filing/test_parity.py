"""Every channel files through the one core: the same case, sent through each channel as its users send it, writes
the same rows, raises the same police alerts and gives the same warnings.

Channels: the desk page (scan + check-in form), the kiosk (its JSON API), the API with one guest (the set-based
writer), the API with a group (the case's guest second, under a head), the API's one-statement SQL writer
(PostgreSQL), hospital events (`POST /api/v1/hospital/events`) and the hospital desk (admission page). Each runs
on an empty database with the same world (establishments, watch list, the case's own setup) at the same frozen
moment. What a channel adds of its own (the establishment, source, reason, room or bed, the actor) is left out of
the comparison; everything the rules decide is compared: the person row, the stay's status, times and deadline,
the history, the alerts, and the warnings.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request_started
from freezegun import freeze_time
from sqlalchemy import select, text
from werkzeug.datastructures import MultiDict

from asm import create_app
from asm.accounts.models import Role
from asm.clock import to_local
from asm.common import Actor
from asm.config import Test
from asm.extensions import db
from asm.filing import core
from asm.filing import sql as sql_writer
from asm.foreigners.models import ForeignStay
from asm.geo.models import Commune
from asm.hospital import services as hospital
from asm.hospital.services import create_ward
from asm.idcard.reader import read_text
from asm.people.models import Person
from asm.people.services import PersonInput
from asm.police.models import Alert, WatchEntry
from asm.stays import services
from asm.stays.models import Stay, StayEvent
from tests.conftest import BYPASS_APPEND_ONLY, CARD, KEEP_TABLES, PG_URL, Factory, _fresh_g, csrf_token
from tests.support.desk import check_in_form, client_as, post_check_in, scanned_guest
from tests.support.foreign import MRZ
from tests.support.kiosk import make_kiosk

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # 16:30 in Vietnam
LATE = datetime(2026, 11, 23, 16, 40, tzinfo=UTC)  # 23:40 in Vietnam: deadline 08:00 next day
HOA_DOC = "034303011829"
# A card whose old 9-digit CMND is printed too: Hà Nội (001), male born 1985.
CARD_OLD = "001085012345|012345678|Trần Văn Nam|15061985|Nam|Số 1 Hàng Bài, Hoàn Kiếm, Hà Nội|01012022"
COMPANION = "001060034567||Trần Văn Hùng|03031960|Nam|Số 1 Hàng Bài, Hoàn Kiếm, Hà Nội|01012022"
COMMUNE = "00004"  # Phường Ba Đình, Hà Nội (01)
OTHER_COMMUNE = "25747"  # Phường Thủ Dầu Một, another province (79)


@dataclass
class World:
    """The establishments of a run, all in one ward: the hotel, the hospital and another place."""

    app: Flask
    factory: Factory
    hotel: Any = None
    hospital: Any = None
    bed: Any = None
    other_bed: Any = None
    there: Any = None
    officer: Any = None

    def build(self) -> World:
        f = self.factory
        self.hotel = f.establishment(code="HERE", commune=COMMUNE, name="Khách sạn Đây")
        self.hospital = f.establishment(code="BV", commune=COMMUNE, type="hospital", rooms=(), name="Bệnh viện Đây")
        ward = create_ward(self.hospital, code="K1", name="Khoa Nội", beds=[("P101", "K1-1"), ("P101", "K1-2")])
        self.bed, self.other_bed = ward.beds
        self.there = f.establishment(code="THERE", commune=COMMUNE, name="Nhà nghỉ Bên Kia")
        self.officer = f.user(Role.OFFICER, commune=COMMUNE)
        db.session.commit()
        return self

    def watch(self, number: str, *, commune: str | None, province: str = "01", active: bool = True) -> None:
        db.session.add(
            WatchEntry(
                doc_number=number,
                note=f"{number}@{commune or province}",
                province_code=province,
                commune_code=commune,
                active=active,
                created_by_id=self.officer.id,
            )
        )
        db.session.commit()

    def file_at(self, est: Any, card: str, *, at: datetime) -> None:
        person = PersonInput.from_document(read_text(card))
        data = services.CheckInInput(guests=[person], arrived_at=at, reason="Du lịch")
        services.check_in(est, data, actor=Actor.system("setup"), now=at)
        db.session.commit()


@dataclass
class Case:
    name: str
    card: str = CARD
    at: datetime = NOW
    nights: int = 2
    setup: Callable[[World, str], None] | None = None  # (world, the channel's kind: "hotel" | "hospital")
    refused: bool = False
    alerts: int = 0
    warnings: tuple[str, ...] = ()
    skip: frozenset[str] = frozenset()  # channels whose own rules refuse this input before the core
    family: tuple[str, ...] = ()  # more people checked in with the case's guest (one check-in: a family)
    foreign: dict[str, str] | None = None  # a foreign guest's entry details, as each channel's user gives them

    @property
    def doc(self) -> str:
        return _doc_and_name(self.card)[0]

    @property
    def guest_name(self) -> str:
        return _doc_and_name(self.card)[1]


def _doc_and_name(text: str) -> tuple[str, str]:
    if "|" in text:
        fields = text.split("|")
        return fields[0], fields[2]
    mrz = read_text(text)
    return mrz.document_number, mrz.full_name  # type: ignore[union-attr]


def _watch_both_ways(w: World, _kind: str) -> None:
    w.watch(HOA_DOC, commune=COMMUNE)  # this ward: an alert
    w.watch(HOA_DOC, commune=None, province="01")  # the whole province (a supervisor's entry): an alert
    w.watch(HOA_DOC, commune="00070")  # another ward of the province: none
    w.watch(HOA_DOC, commune=OTHER_COMMUNE, province=_province_of(OTHER_COMMUNE))  # another province's ward: none
    w.watch(HOA_DOC, commune=COMMUNE, active=False)  # ended: none


def _province_of(commune: str) -> str:
    return db.session.scalar(select(Commune.province_code).where(Commune.code == commune)) or "01"


def _returning(w: World, _kind: str) -> None:
    db.session.add(
        Person(
            doc_type="cccd",
            doc_number=HOA_DOC,
            nationality="VNM",
            full_name="NGUYỄN THỊ HOA",
            birth_date=date(2003, 3, 21),
            sex="F",
            address="Địa chỉ cũ",
            created_at=NOW - timedelta(days=90),
            updated_at=NOW - timedelta(days=90),
        )
    )
    db.session.commit()


def _in_house_elsewhere(w: World, _kind: str) -> None:
    w.file_at(w.there, CARD, at=NOW - timedelta(days=1))


def _in_house_here(w: World, kind: str) -> None:
    if kind == "hospital":  # in another bed: the admission is refused for the person, not for the bed
        person = PersonInput.from_document(read_text(CARD))
        hospital.admit(
            w.hospital,
            hospital.AdmissionInput(bed_id=w.other_bed.id, arrived_at=NOW - timedelta(hours=3), patient=person),
            actor=Actor.system("setup"),
            now=NOW - timedelta(hours=3),
        )
        db.session.commit()
    else:
        w.file_at(w.hotel, CARD, at=NOW - timedelta(hours=3))


CASES = [
    Case("a new guest"),
    Case("a returning guest brought up to date", setup=_returning),
    Case("watch-listed: alerts in this ward and province, none elsewhere", setup=_watch_both_ways, alerts=2),
    Case(
        "the old CMND number is watch-listed",
        card=CARD_OLD,
        setup=lambda w, _k: w.watch("012345678", commune=COMMUNE),
        alerts=1,
    ),
    Case("in house elsewhere: a warning", setup=_in_house_elsewhere, warnings=("in_house_elsewhere",)),
    Case("a stay of 30 days or more: a warning", nights=35, warnings=("long_stay",), skip=frozenset({"kiosk"})),
    Case("arrived after 23:00: deadline 08:00 next day", at=LATE),
    Case("already in house here: refused, nothing written", setup=_in_house_here, refused=True),
    Case(
        "a foreigner by passport MRZ: declaration due in 12 h, NA17 details missing",
        card=MRZ,
        warnings=("foreign_details_missing",),
    ),
    Case(
        "a foreigner with entry and visa details",
        card=MRZ,
        foreign={
            "visa_type": "evisa",
            "visa_number": "EV12345678",
            "entry_date": "2026-11-22",
            "entry_port": "Sân bay Nội Bài",
            "entry_purpose": "Du lịch",
        },
        skip=frozenset({"kiosk"}),  # a kiosk guest gives no entry details: the desk completes them
    ),
    Case(
        "a mixed family: a citizen (QR) and a foreigner (MRZ) in one check-in",
        family=(MRZ,),
        skip=frozenset({"hospital_events", "hospital_desk"}),  # a hospital admits one patient at a time
    ),
]

CHANNELS = ("desk", "kiosk", "api", "api_group", "api_sql", "hospital_events", "hospital_desk")


# -- the channels, as their users send a filing ------------------------------------------------------------


@dataclass
class Outcome:
    status: int
    warnings: list[str] = field(default_factory=list)  # what the channel shows, where it shows them
    codes: list[str] = field(default_factory=list)  # the core's warnings, by code


def _local(at: datetime) -> str:
    return to_local(at).strftime("%Y-%m-%dT%H:%M")


def _departure(case: Case) -> date:
    return to_local(case.at).date() + timedelta(days=case.nights)


def _with_foreign(fields: list[tuple[str, str]], foreign: dict[str, str] | None) -> list[tuple[str, str]]:
    """The guest block's fields with the clerk's typing in its foreign-guest fields."""
    if not foreign:
        return fields
    out = []
    for name, value in fields:
        short = name.split("-", 2)[-1]
        out.append((name, foreign.get(short, value)))
    return out


def desk(w: World, case: Case) -> Outcome:
    clerk = client_as(w.app, w.factory.user(Role.CLERK, establishment=w.hotel))
    guests = [_with_foreign(scanned_guest(clerk, w.hotel.code, case.card), case.foreign)]
    guests += [scanned_guest(clerk, w.hotel.code, text) for text in case.family]
    form = check_in_form(guests, arrived_at=_local(case.at), expected_departure=_departure(case).isoformat())
    response = post_check_in(clerk, w.hotel.code, form)
    return Outcome(response.status_code)


def kiosk(w: World, case: Case) -> Outcome:
    k = make_kiosk(w.app, w.factory, est=w.hotel)
    body = {
        "flow": "hotel_check_in",
        "guests": [{"qr": case.card}] + [{"qr": text} for text in case.family],
        "reason": "Du lịch",
        "nights": case.nights,
        "scanned_at_ms": int(case.at.timestamp() * 1000),
    }
    response = k.submit(body)
    return Outcome(response.status_code)


def _api(w: World, case: Case, guests: list[dict[str, Any]], *, sql: bool) -> Outcome:
    w.app.config["API_SQL_FILING"] = sql
    secret = w.factory.token(w.hotel)
    body = {
        "guests": guests,
        "reason": "Du lịch",
        "arrived_at": case.at.isoformat(),
        "expected_departure": _departure(case).isoformat(),
    }
    response = w.app.test_client().post(
        "/api/v1/stays",
        json=body,
        headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": f"parity-{CASES.index(case)}"},
    )
    answer = response.get_json() or {}
    return Outcome(response.status_code, warnings=answer.get("warnings", []))


def _guests(case: Case) -> list[dict[str, Any]]:
    guest: dict[str, Any] = {"qr": case.card}
    if case.foreign:
        guest["foreign"] = case.foreign
    return [guest] + [{"qr": text} for text in case.family]


def api(w: World, case: Case) -> Outcome:
    return _api(w, case, _guests(case), sql=False)


def api_group(w: World, case: Case) -> Outcome:
    return _api(w, case, [{"qr": COMPANION}, *_guests(case)], sql=False)


def api_sql(w: World, case: Case) -> Outcome:
    return _api(w, case, _guests(case), sql=True)


def hospital_events(w: World, case: Case) -> Outcome:
    secret = w.factory.token(w.hospital)
    event = {
        "event_id": "e-1",
        "type": "admission",
        "admission_id": "A-1",
        "occurred_at": case.at.isoformat(),
        "patient": _guests(case)[0],
        "bed": w.bed.label,
        "expected_discharge": _departure(case).isoformat(),
    }
    response = w.app.test_client().post(
        "/api/v1/hospital/events", json={"events": [event]}, headers={"Authorization": f"Bearer {secret}"}
    )
    result = (response.get_json() or {}).get("results", [{}])[0]
    status = response.status_code if result.get("status") != "refused" else 422
    return Outcome(status)


def hospital_desk(w: World, case: Case) -> Outcome:
    clerk = client_as(w.app, w.factory.user(Role.CLERK, establishment=w.hospital))
    guest = _with_foreign(scanned_guest(clerk, w.hospital.code, case.card), case.foreign)
    data = [
        *guest,
        ("mode", "document"),
        ("bed_id", str(w.bed.id)),
        ("arrived_at", _local(case.at)),
        ("expected_discharge", _departure(case).isoformat()),
    ]
    form = MultiDict([*data, ("csrf_token", csrf_token(clerk))])
    response = clerk.post(f"/benh-vien/{w.hospital.code}/nhap-vien", data=form)
    return Outcome(response.status_code)


RUN: dict[str, Callable[[World, Case], Outcome]] = {
    "desk": desk,
    "kiosk": kiosk,
    "api": api,
    "api_group": api_group,
    "api_sql": api_sql,
    "hospital_events": hospital_events,
    "hospital_desk": hospital_desk,
}


# -- running a channel on an empty database ------------------------------------------------------------------


def wipe() -> None:
    """Empty every table but the administrative units (PostgreSQL: as the test fixtures do between tests)."""
    tables = [t.name for t in db.metadata.sorted_tables if t.name not in KEEP_TABLES]
    with db.engine.begin() as conn:
        conn.execute(text(BYPASS_APPEND_ONLY))
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))


@contextmanager
def fresh_app(template: str, tmp_path: Path, name: str) -> Iterator[Flask]:
    """An app on an empty, migrated database: a copy of the template file (SQLite), or the emptied test database."""
    if PG_URL:
        url = template
    else:
        path = tmp_path / f"{name}.sqlite3"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
    app = create_app(Test, SQLALCHEMY_DATABASE_URI=url, SERVER_NAME="asm.test")
    request_started.connect(_fresh_g, app)  # as the `app` fixture: each request starts with an empty `g`
    with app.app_context():
        if PG_URL:
            wipe()
        try:
            yield app
        finally:
            db.session.remove()
            if PG_URL:
                wipe()
            db.engine.dispose()


def snapshot(doc_numbers: set[str]) -> dict[str, Any]:
    """What the rules decided, for the people of the case: channel-specific columns left out."""
    db.session.expire_all()
    people = db.session.scalars(select(Person).where(Person.doc_number.in_(doc_numbers)).order_by(Person.doc_number))
    out: dict[str, Any] = {"people": [], "stays": [], "alerts": []}
    for p in people:
        out["people"].append(
            {
                c: getattr(p, c)
                for c in (
                    "doc_type",
                    "doc_number",
                    "nationality",
                    "full_name",
                    "birth_date",
                    "sex",
                    "address",
                    "old_id_number",
                    "id_issue_date",
                    "card_extra",
                    "updated_at",
                )
            }
        )
        for s in db.session.scalars(select(Stay).where(Stay.person_id == p.id).order_by(Stay.id)):
            if s.establishment.code == "THERE":
                continue  # the setup's own stay elsewhere
            events = db.session.scalars(select(StayEvent).where(StayEvent.stay_id == s.id).order_by(StayEvent.id))
            out["stays"].append(
                {
                    "status": s.status,
                    "arrived_at": s.arrived_at,
                    "expected_departure": s.expected_departure,
                    "deadline_at": s.deadline_at,
                    "filed_at": s.filed_at,
                    "receipt": bool(s.receipt_no),
                    "departed_at": s.departed_at,
                    "events": [
                        (
                            e.kind,
                            e.at,
                            bool(e.receipt_no),
                            e.data.get("arrived_at"),
                            e.data.get("expected_departure"),
                        )
                        for e in events
                    ],
                }
            )
            foreign = db.session.scalar(select(ForeignStay).where(ForeignStay.stay_id == s.id))
            out["stays"][-1]["foreign"] = (
                None
                if foreign is None
                else {
                    c: getattr(foreign, c)
                    for c in (
                        "passport_expiry",
                        "visa_type",
                        "visa_number",
                        "entry_date",
                        "entry_port",
                        "entry_purpose",
                        "deadline_hours",
                        "deadline_at",
                        "declared_at",
                        "declaration_ref",
                    )
                }
            )
            out["alerts"] += sorted(
                (a.watch_entry.note, a.commune_code, a.state)
                for a in db.session.scalars(select(Alert).where(Alert.stay_id == s.id))
            )
    return out


def run(channel: str, case: Case, template: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    with fresh_app(template, tmp_path, f"{case.name[:20]}-{channel}".replace(" ", "_")) as app:
        world = World(app, Factory(app)).build()
        kind = "hospital" if channel.startswith("hospital") else "hotel"
        if case.setup is not None:
            case.setup(world, kind)
        codes: list[tuple[str, str]] = []
        real_write = core.Filing.write
        taken_sql: list[bool] = []
        real_sql = sql_writer.write_one

        def spy_write(self: core.Filing) -> Any:
            codes.extend((w.code, w.message) for w in self.plan.warnings)
            return real_write(self)

        def spy_sql(*args: Any, **kwargs: Any) -> Any:
            answer = real_sql(*args, **kwargs)
            taken_sql.append(answer is not None)
            return answer

        monkeypatch.setattr(core.Filing, "write", spy_write)
        monkeypatch.setattr(sql_writer, "write_one", spy_sql)
        with freeze_time(case.at):
            outcome = RUN[channel](world, case)
        monkeypatch.undo()
        foreign = any(not text.count("|") for text in (case.card, *case.family))
        if channel == "api_sql" and not case.refused and not case.warnings and not foreign:
            assert taken_sql == [True], "the one-statement writer did not take the plan"
        if channel == "api_sql" and foreign:  # a foreign national's stay: the set-based writer files it
            assert True not in taken_sql, "the one-statement writer took a foreign national's stay"
        docs = {_doc_and_name(text)[0] for text in (case.card, *case.family)}
        return outcome, codes, snapshot(docs)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_channel_writes_the_same(
    case: Case, _template_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    channels = [c for c in CHANNELS if c not in case.skip and (c != "api_sql" or PG_URL)]
    results = {c: run(c, case, _template_db, tmp_path, monkeypatch) for c in channels}
    outcomes = {c: r[0] for c, r in results.items()}
    if case.refused:
        assert all(400 <= o.status < 500 for o in outcomes.values()), {c: o.status for c, o in outcomes.items()}
    else:
        assert all(o.status in (200, 201, 303) for o in outcomes.values()), {c: o.status for c, o in outcomes.items()}
    reference = results[channels[0]][2]
    for channel in channels[1:]:
        assert results[channel][2] == reference, f"{channel} wrote differently from {channels[0]}"
    # The stay filed by this case (refused: none new) with the case's deadline, alerts and warnings.
    filed = [s for s in reference["stays"] if s["arrived_at"] == case.at]
    if case.refused:
        assert filed == []
    else:
        assert len(filed) == 1 + len(case.family)
        for stay in filed:
            assert stay["status"] == "in_house" and stay["receipt"] and stay["filed_at"] == case.at
            deadline_local = to_local(stay["deadline_at"])
            expected = (23, 0) if case.at == NOW else (8, 0)
            assert (deadline_local.hour, deadline_local.minute) == expected
        # A foreign national's stay carries the declaration, due 12 hours after the arrival; a citizen's none.
        foreigners = [stay["foreign"] for stay in filed if stay["foreign"] is not None]
        assert len(foreigners) == sum(not text.count("|") for text in (case.card, *case.family))
        for foreign in foreigners:
            assert foreign["deadline_hours"] == 12 and foreign["deadline_at"] == case.at + timedelta(hours=12)
            assert foreign["declared_at"] is None and foreign["passport_expiry"] == date(2031, 1, 1)
            if case.foreign:
                assert foreign["entry_port"] == case.foreign["entry_port"] and foreign["visa_type"] == "evisa"
        assert len(reference["alerts"]) == case.alerts
        for channel in channels:
            if channel != "api_sql":  # the statement writes its own warnings into the answer (below)
                name = case.guest_name  # the group's companion has warnings of its own
                codes = [code for code, message in results[channel][1] if name in message]
                assert codes == list(case.warnings), channel
        if "api_sql" in results:
            assert outcomes["api_sql"].warnings == outcomes["api"].warnings
