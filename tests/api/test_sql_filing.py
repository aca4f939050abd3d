"""The API's one-statement filing on PostgreSQL (asm/filing/sql.py) writes and answers exactly as the ORM path.

Each case runs twice on the same starting rows, at the same frozen time: once with `API_SQL_FILING` (the SQL path
must take it: a spy checks) and once without (the ORM path, `asm.stays.services.check_in`). The answers and every
row written (people, stays, events, police alerts, idempotency records) must match, receipt numbers aside.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import text

from asm.accounts.models import Role
from asm.audit.chain import GENESIS, chain_hash
from asm.extensions import db
from asm.filing import sql as filing
from asm.police.models import WatchEntry
from asm.stays.models import STAY_EVENTS_CHAIN
from tests.conftest import BYPASS_APPEND_ONLY, CARD, Factory
from tests.support.plans import plans, scans_of

pytestmark = pytest.mark.postgres_only

NOW = "2026-11-23T16:45:00+00:00"  # 23:45 in Vietnam
HOA = {"doc_type": "cccd", "doc_number": "034303011829", "full_name": "Nguyễn Thị Hoa", "birth_date": "2003-03-21"}
WRITTEN = ("people", "stays", "stay_events", "police_alerts", "idempotency_records")
RANDOM = {"receipt_no"}  # random by design: compared for presence only
# Ids are compared by rank: a statement that writes nothing still takes a number from the stays' sequence.
REFERENCES = {"stay_id": "stays", "head_id": "stays", "person_id": "people"}


class World:
    def __init__(self, app: Flask, client: FlaskClient, factory: Factory) -> None:
        self.app, self.client, self.factory = app, client, factory
        self.here = factory.establishment(code="HERE", commune="00004")
        self.there = factory.establishment(code="THERE", commune="00004", name="Nhà nghỉ Bên Kia")
        self.secret = factory.token(self.here)
        self.secret_there = factory.token(self.there)
        self.officer = factory.user(Role.OFFICER, commune="00004")

    def post(
        self, body: dict[str, Any], *, key: str | None = None, secret: str | None = None, lang: str | None = None
    ) -> Any:
        headers = {"Authorization": f"Bearer {secret or self.secret}"}
        if key:
            headers["Idempotency-Key"] = key
        return self.client.post("/api/v1/stays" + (f"?lang={lang}" if lang else ""), json=body, headers=headers)

    def watch(self, number: str) -> None:
        db.session.add(
            WatchEntry(
                doc_number=number,
                note="truy tìm",
                province_code="01",
                commune_code="00004",
                created_by_id=self.officer.id,
            )
        )
        db.session.commit()

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        db.session.rollback()
        return {
            table: [dict(row._mapping) for row in db.session.execute(text(f"SELECT * FROM {table} ORDER BY id"))]
            for table in WRITTEN
        }

    def wipe(self) -> None:
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.execute(text(BYPASS_APPEND_ONLY))
            conn.execute(text(f"TRUNCATE {', '.join(WRITTEN)}, watch_entries RESTART IDENTITY CASCADE"))


def normalized(rows: dict[str, list[dict[str, Any]]], answers: list[tuple[int, Any]]) -> tuple[Any, Any]:
    rank = {table: {row["id"]: i for i, row in enumerate(rows[table], 1)} for table in WRITTEN}
    # A history line links to its stay's line before it (hashes hash random receipts: compared as links)
    links: dict[int, str] = {}
    last: dict[int, str] = {}
    for event in rows["stay_events"]:
        links[event["id"]] = (
            "first"
            if event["prev_hash"] == GENESIS
            else ("linked" if event["prev_hash"] == last.get(event["stay_id"]) else "broken")
        )
        last[event["stay_id"]] = event["row_hash"]

    def row_of(table: str, row: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for column, value in row.items():
            if column == "id":
                value = rank[table][value]
            elif column in REFERENCES and value is not None:
                value = rank[REFERENCES[column]].get(value, ("elsewhere", value))
            elif column in RANDOM:
                value = bool(value)
            elif column == "response" and value:
                value = answer(json.loads(value))
            elif column == "prev_hash":
                value = links[row["id"]]
            elif column == "row_hash":  # it hashes the random receipt number: compared as "the row's true hash"
                value = value == chain_hash(row["prev_hash"], STAY_EVENTS_CHAIN.fields_of(row))
            out[column] = value
        return out

    def answer(payload: Any) -> Any:
        if isinstance(payload, dict):
            return {
                k: (bool(v) if k in RANDOM else rank["stays"].get(v) if k in ("id", "head_id") and v else answer(v))
                for k, v in payload.items()
            }
        if isinstance(payload, list):
            return [answer(v) for v in payload]
        return payload

    tables = {table: [row_of(table, row) for row in rows[table]] for table in WRITTEN}
    return tables, [(status, answer(payload)) for status, payload in answers]


@pytest.fixture
def world(app: Flask, client: FlaskClient, factory: Factory) -> World:
    return World(app, client, factory)


@pytest.fixture
def sql_path_taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    taken: list[bool] = []
    real = filing.file_one

    def spy(*args: Any, **kwargs: Any) -> str | None:
        answer = real(*args, **kwargs)
        taken.append(answer is not None)
        return answer

    monkeypatch.setattr(filing, "file_one", spy)
    return taken


def both_paths(
    world: World, sql_path_taken: list[bool], setup: Callable[[], None], act: Callable[[], list[Any]]
) -> tuple[list[bool], list[tuple[int, Any]]]:
    """Run `setup` then `act` with the SQL path on, then again from empty tables with it off; compare."""
    outcomes = []
    for sql in (True, False):
        world.wipe()
        world.app.config["API_SQL_FILING"] = sql
        with freeze_time(NOW):
            setup()
            del sql_path_taken[:]
            answers = [(a.status_code, a.get_json()) for a in act()]
        outcomes.append((*normalized(world.rows(), answers), list(sql_path_taken)))
    (sql_rows, sql_answers, taken), (orm_rows, orm_answers, not_taken) = outcomes
    assert not any(not_taken)
    assert sql_answers == orm_answers
    for table in WRITTEN:
        assert sql_rows[table] == orm_rows[table], table
    return taken, sql_answers


def test_a_new_guest_with_a_room_and_a_key(world: World, sql_path_taken: list[bool]) -> None:
    body = {"guests": [HOA], "reason": "  Du   lịch ", "room": "101", "expected_departure": "2026-11-25"}
    taken, answers = both_paths(world, sql_path_taken, lambda: None, lambda: [world.post(body, key="k-1")])
    assert taken == [True]
    [(status, payload)] = answers
    assert status == 201 and payload["stays"][0]["reason"] == "Du lịch" and payload["warnings"] == []
    assert payload["stays"][0]["notice_state"] == "on_time" and payload["stays"][0]["room"] == "101"


def test_a_card_read_without_a_room_or_a_key(world: World, sql_path_taken: list[bool]) -> None:
    body = {"guests": [{"qr": CARD}], "reason": "Công tác", "arrived_at": "2026-11-23T23:30:00+07:00"}
    taken, answers = both_paths(world, sql_path_taken, lambda: None, lambda: [world.post(body)])
    assert taken == [True]
    assert answers[0][0] == 201 and answers[0][1]["stays"][0]["room"] is None


@pytest.mark.parametrize("changed", [True, False], ids=["name-changed", "unchanged"])
def test_a_returning_guest_is_brought_up_to_date(world: World, sql_path_taken: list[bool], changed: bool) -> None:
    def earlier_stay() -> None:
        first = world.post({"guests": [{**HOA, "address": "Hà Nội"}], "reason": "Du lịch"}).get_json()
        world.client.post(
            f"/api/v1/stays/{first['stays'][0]['id']}/check-out",
            json={},
            headers={"Authorization": f"Bearer {world.secret}"},
        )

    guest = {**HOA, "full_name": "Nguyễn Thị Hoà" if changed else HOA["full_name"]}
    taken, answers = both_paths(
        world, sql_path_taken, earlier_stay, lambda: [world.post({"guests": [guest], "reason": "Du lịch"})]
    )
    assert taken == [True]
    assert answers[0][0] == 201


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_guest_in_house_elsewhere_gets_a_warning(world: World, sql_path_taken: list[bool], language: str) -> None:
    def elsewhere() -> None:
        assert world.post({"guests": [HOA], "reason": "Du lịch"}, secret=world.secret_there).status_code == 201

    taken, answers = both_paths(
        world,
        sql_path_taken,
        elsewhere,
        lambda: [world.post({"guests": [HOA], "reason": "Du lịch"}, key="w", lang=language)],
    )
    assert taken == [True]
    [warning] = answers[0][1]["warnings"]
    assert "Nhà nghỉ Bên Kia" in warning and "Nguyễn Thị Hoa" in warning
    assert ("also" in warning) == (language == "en")


def test_a_watch_listed_guest_raises_a_police_alert(world: World, sql_path_taken: list[bool]) -> None:
    taken, answers = both_paths(
        world,
        sql_path_taken,
        lambda: world.watch(HOA["doc_number"]),
        lambda: [world.post({"guests": [HOA], "reason": "Du lịch"})],
    )
    assert taken == [True]
    assert answers[0][0] == 201


def test_what_the_sql_path_leaves_to_the_orm_gets_the_same_answers(world: World, sql_path_taken: list[bool]) -> None:
    good = {"guests": [HOA], "reason": "Du lịch", "room": "101"}

    def act() -> list[Any]:
        return [
            world.post({**good, "room": "999"}),  # no such room
            world.post({**good, "guests": [{**HOA, "birth_date": "2004-03-21"}]}),  # ID number against birth year
            world.post(good, key="same"),
            world.post(good, key="same"),  # a retry: the first answer again
            world.post({**good, "reason": "Công tác"}, key="same"),  # the key reused for another request
            world.post(good),  # in house here already
        ]

    taken, answers = both_paths(world, sql_path_taken, lambda: None, act)
    assert [status for status, _ in answers] == [422, 422, 201, 201, 422, 422]
    assert taken == [False, False, True, False, False, False]


def test_the_statement_stays_short_enough_for_psycopg_to_cache_its_parse() -> None:
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH

    for sql in (filing.WRITE_SQL, filing.WRITE_SQL_NO_KEY):
        assert len(sql.encode()) <= MAX_CACHED_STATEMENT_LENGTH


def test_switched_off_the_orm_path_files(app: Flask, world: World, sql_path_taken: list[bool]) -> None:
    app.config["API_SQL_FILING"] = False
    assert world.post({"guests": [HOA], "reason": "Du lịch"}).status_code == 201
    assert sql_path_taken == []
    assert len(world.rows()["stays"]) == 1


GUEST_2 = {"doc_type": "cccd", "doc_number": "001090012345", "full_name": "Trần Văn Nam", "birth_date": "1990-05-01"}


@pytest.mark.parametrize("change", ["revoked", "closed", "suspended", "moved"])
def test_a_token_the_worker_remembers_files_nothing_once_revoked_or_its_establishment_changed(
    world: World, sql_path_taken: list[bool], change: str
) -> None:
    """The one-statement filing lets a request in on the token's identity as the worker last saw it
    (`API_TOKEN_CACHE_S`); its statement checks the token again, and when that fails the token is looked up
    afresh before anything else is written."""
    from asm.accounts.models import ApiToken
    from asm.accounts.services import revoke_token
    from asm.clock import utcnow
    from asm.establishments.models import Establishment, Status

    world.wipe()
    db.session.add(
        WatchEntry(
            doc_number=GUEST_2["doc_number"], note="truy tìm", province_code="01", created_by_id=world.officer.id
        )
    )
    db.session.commit()
    assert world.post({"guests": [HOA], "reason": "Du lịch"}).status_code == 201
    assert sql_path_taken == [True]
    est = db.session.get(Establishment, world.here.id)
    assert est is not None
    if change == "revoked":
        for token in db.session.query(ApiToken).filter_by(establishment_id=est.id):
            revoke_token(token, now=utcnow())
    elif change == "closed":
        est.active = False
    elif change == "suspended":
        est.status, est.status_reason = Status.SUSPENDED, "Kiểm tra phòng cháy"
    else:
        est.commune_code = "00070"
    db.session.commit()
    before = world.rows()

    answer = world.post({"guests": [GUEST_2], "reason": "Du lịch"})

    after = world.rows()
    if change in ("revoked", "closed"):
        assert answer.status_code == 401 and answer.get_json()["error"]["code"] == "unauthorized"
    elif change == "suspended":
        assert answer.status_code == 422 and "Kiểm tra phòng cháy" in str(answer.get_json())
    if change != "moved":
        assert after == before  # nothing filed, not even half
        return
    assert answer.status_code == 201  # filed by the set-based writer, with the establishment as it is now
    assert sql_path_taken == [True, False]
    [alert] = after["police_alerts"]
    assert alert["commune_code"] == "00070"


def test_a_guests_open_stays_are_read_by_the_person_whatever_the_statistics(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The statement asks for the guest's open stays elsewhere by the person's id. Planned with statistics taken
    before the day's arrivals (a new database; a table not analysed since), the earlier text walked every open stay
    of the country and joined each to its person: 14–21 ms a filing at 1.8 million stays (migration 0018)."""
    people = (
        "INSERT INTO people (doc_type, doc_number, nationality, full_name, search_key, birth_date, sex, created_at,"
        " updated_at) SELECT 'cccd', :prefix || lpad(g::text, 11, '0'), 'VNM', :name, 'khach', date '1990-01-01',"
        " 'M', now(), now() FROM generate_series(1, :n) g"
    )
    stays = (
        "INSERT INTO stays (establishment_id, person_id, status, source, reason, arrived_at, deadline_at, created_at,"
        " role) SELECT :there, id, :status, 'api', 'Du lịch', now(), now(), now(), 'guest' FROM people"
        " WHERE full_name = :name"
    )
    with db.engine.begin() as conn:  # statistics of stays that have all ended, then the day's arrivals
        conn.execute(text(people), {"prefix": "7", "name": "Khách Cũ", "n": 3000})
        conn.execute(text(stays), {"there": world.there.id, "status": "checked_out", "name": "Khách Cũ"})
        conn.execute(text("ANALYZE"))
        conn.execute(text(people), {"prefix": "8", "name": "Khách Mới", "n": 3000})
        conn.execute(text(stays), {"there": world.there.id, "status": "in_house", "name": "Khách Mới"})
    sent: list[tuple[str, dict[str, Any]]] = []
    fetch_one = filing.RawConnection.fetch_one

    def spy(self: Any, sql: str, params: dict[str, Any]) -> Any:
        sent.append((sql, params))
        return fetch_one(self, sql, params)

    monkeypatch.setattr(filing.RawConnection, "fetch_one", spy)
    assert world.post({"guests": [HOA], "reason": "Du lịch"}).status_code == 201
    [(sql, params)] = [(sql, params) for sql, params in sent if sql == filing.WRITE_SQL_NO_KEY]
    db.session.rollback()
    with db.engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        for mode, plan in plans(driver, sql, params).items():
            reads = scans_of(plan, "stays")
            assert reads
            for node in reads:
                assert "person_id" in node.get("Index Cond", ""), (mode, node)
