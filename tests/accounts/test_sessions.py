"""Server-side sessions (issue 11.1), through the pages: a saved cookie replayed after a logout, a password change,
a disabling, a role change or an admin's "end all" is refused; idle timeouts by role and the absolute lifetime;
the user's own list of sessions; last-seen written at most once a minute; the API and kiosk never touch sessions.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import event, select

from asm.accounts.models import AccessLog, Role, User, UserSession
from asm.clock import utcnow
from asm.establishments.models import Establishment
from asm.extensions import db
from tests.conftest import CARD, PASSWORD, Factory, csrf_token
from tests.support.auth import post, replay, saved_cookie
from tests.support.desk import client_as, new_client, use_fast_password_hashes

NEW_PASSWORD = "Tram-lang-ven-song-42"


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


def is_logged_in(client: FlaskClient, url: str = "/co-so/") -> bool:
    response = client.get(url)
    if response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/dang-nhap":
        return False
    assert response.status_code == 200, (url, response.status_code)
    return True


def sessions_of(user: User) -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)))


@pytest.fixture
def clerk(clerk_setup: tuple[Establishment, User]) -> User:
    return clerk_setup[1]


# --- a replayed cookie ----------------------------------------------------------------------------------------


def test_a_cookie_saved_before_logout_is_refused_when_replayed(app: Flask, clerk: User) -> None:
    browser = client_as(app, clerk)
    saved = saved_cookie(browser)
    assert is_logged_in(replay(app, saved))  # a copy works while the login lasts (that is what a cookie is)
    assert post(browser, "/dang-xuat").status_code == 302
    attacker = replay(app, saved)
    assert not is_logged_in(attacker)
    assert not is_logged_in(attacker, "/tai-khoan/")
    (row,) = sessions_of(clerk)
    assert row.ended_at is not None and row.end_reason == "logout"


def test_a_cookie_saved_before_a_password_change_is_refused(app: Flask, clerk: User) -> None:
    browser = client_as(app, clerk)
    other_device = client_as(app, clerk)
    saved = saved_cookie(browser)
    response = post(
        browser, "/tai-khoan/mat-khau", {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 303
    assert is_logged_in(browser)  # the browser that changed it carries on, with a new session
    assert not is_logged_in(replay(app, saved))
    assert not is_logged_in(other_device)
    assert [r.end_reason for r in sessions_of(clerk)] == ["password", "password", None]
    # The new password opens, the old one does not.
    assert post(new_client(app), "/dang-nhap", {"username": clerk.username, "password": PASSWORD}).status_code == 401
    assert (
        post(new_client(app), "/dang-nhap", {"username": clerk.username, "password": NEW_PASSWORD}).status_code == 302
    )
    line = db.session.scalars(select(AccessLog).where(AccessLog.action == "password_changed")).one()
    assert (line.user_id, line.target) == (clerk.id, clerk.username)


@pytest.mark.parametrize(
    ("action", "reason"),
    [("khoa", "disabled"), ("ket-thuc-phien", "admin"), ("vai-tro", "role"), ("xac-thuc-2-buoc/dat-lai", "2fa_reset")],
)
def test_an_admins_change_ends_the_users_sessions_at_once(
    app: Flask, factory: Factory, clerk_setup: tuple[Establishment, User], action: str, reason: str
) -> None:
    est, clerk = clerk_setup
    victim = client_as(app, clerk)
    saved = saved_cookie(victim)
    admin = client_as(app, factory.user(Role.ADMIN))
    data = {"role": "owner", "establishments": est.code} if action == "vai-tro" else {}
    response = post(admin, f"/quan-tri/nguoi-dung/{clerk.id}/{action}", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert not is_logged_in(victim)
    assert not is_logged_in(replay(app, saved))
    assert [r.end_reason for r in sessions_of(clerk)] == [reason]
    admin_id = db.session.scalar(select(User.id).where(User.role == Role.ADMIN))
    logged = db.session.scalars(select(AccessLog.action).where(AccessLog.user_id == admin_id)).all()
    assert {"user_disabled", "sessions_ended", "role_changed", "2fa_reset"} & set(logged)


def test_a_disabled_user_cannot_log_in_again_until_enabled(app: Flask, factory: Factory, clerk: User) -> None:
    admin = client_as(app, factory.user(Role.ADMIN))
    assert post(admin, f"/quan-tri/nguoi-dung/{clerk.id}/khoa").status_code == 303
    assert post(new_client(app), "/dang-nhap", {"username": clerk.username, "password": PASSWORD}).status_code == 401
    assert post(admin, f"/quan-tri/nguoi-dung/{clerk.id}/mo-khoa").status_code == 303
    assert is_logged_in(client_as(app, clerk))


def test_the_cli_ends_a_users_sessions(app: Flask, clerk: User) -> None:
    browser = client_as(app, clerk)
    result = app.test_cli_runner().invoke(args=["users", "end-sessions", clerk.username])
    assert result.exit_code == 0, result.output
    assert "ended 1 sessions" in result.output
    assert not is_logged_in(browser)
    line = db.session.scalars(select(AccessLog).where(AccessLog.action == "sessions_ended")).one()
    assert (line.user_id, line.target, line.reason) == (None, clerk.username, "cli: 1 ended")


def test_the_cli_disables_and_changes_roles_and_passwords(app: Flask, clerk: User) -> None:
    runner = app.test_cli_runner()
    browser = client_as(app, clerk)
    assert runner.invoke(args=["users", "set-password", clerk.username, "--password", "1234567890"]).exit_code == 1
    result = runner.invoke(args=["users", "set-password", clerk.username, "--password", NEW_PASSWORD])
    assert result.exit_code == 0, result.output
    assert not is_logged_in(browser)
    browser = client_as(app, clerk, NEW_PASSWORD)
    assert runner.invoke(args=["users", "disable", clerk.username]).exit_code == 0
    assert not is_logged_in(browser)
    assert runner.invoke(args=["users", "enable", clerk.username]).exit_code == 0
    browser = client_as(app, clerk, NEW_PASSWORD)
    result = runner.invoke(args=["users", "set-role", clerk.username, "--role", "officer", "--commune", "00004"])
    assert result.exit_code == 0, result.output
    assert not is_logged_in(browser)
    assert db.session.get(User, clerk.id).role == "officer"


# --- timeouts ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "idle_minutes"), [("officer", 30), ("admin", 30), ("clerk", 720)])
def test_a_login_ends_after_its_idle_timeout(
    app: Flask, factory: Factory, clerk_setup: tuple[Establishment, User], role: str, idle_minutes: int
) -> None:
    _est, clerk = clerk_setup
    user = clerk if role == "clerk" else factory.user(role, commune="00004" if role == "officer" else None)
    with freeze_time(utcnow()) as clock:
        browser = client_as(app, user)
        clock.tick(timedelta(minutes=idle_minutes - 1))
        assert is_logged_in(browser)  # a request in time keeps it open, and the timeout runs from it
        clock.tick(timedelta(minutes=idle_minutes, seconds=1))
        response = browser.get("/co-so/")
        assert urlsplit(response.headers["Location"]).path == "/dang-nhap"
        assert "Phiên làm việc đã kết thúc" in browser.get(response.headers["Location"]).get_data(as_text=True)
    assert [r.end_reason for r in sessions_of(user)] == ["idle"]


def test_a_login_ends_after_its_absolute_lifetime_however_busy(app: Flask, clerk: User) -> None:
    with freeze_time(utcnow()) as clock:
        browser = client_as(app, clerk)
        for _ in range(23):
            clock.tick(timedelta(hours=1))
            assert is_logged_in(browser)
        clock.tick(timedelta(hours=1))
        assert not is_logged_in(browser)
    assert [r.end_reason for r in sessions_of(clerk)] == ["lifetime"]


def test_the_idle_timeouts_are_settings(database_url: str, factory: Factory, clerk: User) -> None:
    from tests.conftest import second_app

    with second_app(database_url, SESSION_IDLE_MINUTES_ESTABLISHMENT=5) as other, freeze_time(utcnow()) as clock:
        browser = client_as(other, clerk)
        clock.tick(timedelta(minutes=5, seconds=1))
        with other.app_context():
            assert not is_logged_in(browser)


# --- the user's list of sessions -----------------------------------------------------------------------------


def test_a_user_sees_their_sessions_and_ends_another_one(app: Flask, clerk: User) -> None:
    phone = new_client(app)
    phone.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile Safari/604.1"
    )
    response = phone.post(
        "/dang-nhap", data={"username": clerk.username, "password": PASSWORD, "csrf_token": csrf_token(phone)}
    )
    assert response.status_code == 302
    desk = new_client(app)
    desk.environ_base["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
    )
    desk.post("/dang-nhap", data={"username": clerk.username, "password": PASSWORD, "csrf_token": csrf_token(desk)})
    page = desk.get("/tai-khoan/").get_data(as_text=True)
    assert "Chrome · Windows" in page and "Safari · iPhone" in page
    assert phone.environ_base["REMOTE_ADDR"] in page and desk.environ_base["REMOTE_ADDR"] in page
    assert page.count("phiên này") == 1
    phone_row = next(r for r in sessions_of(clerk) if "iPhone" in (r.user_agent or ""))
    assert post(desk, f"/tai-khoan/phien/{phone_row.id}/ket-thuc").status_code == 303
    assert not is_logged_in(phone)
    assert is_logged_in(desk)
    assert "iPhone" not in desk.get("/tai-khoan/").get_data(as_text=True)


def test_a_user_cannot_end_someone_elses_session(app: Flask, factory: Factory, clerk: User) -> None:
    victim = client_as(app, clerk)
    (row,) = sessions_of(clerk)
    other = client_as(app, factory.user(Role.CLERK, establishment=clerk.establishments[0]))
    post(other, f"/tai-khoan/phien/{row.id}/ket-thuc")
    assert is_logged_in(victim)


def test_an_admin_sees_a_users_open_sessions(app: Flask, factory: Factory, clerk: User) -> None:
    client_as(app, clerk)
    admin = client_as(app, factory.user(Role.ADMIN))
    listing = admin.get(f"/quan-tri/nguoi-dung/?q={clerk.username}").get_data(as_text=True)
    assert clerk.username in listing
    page = admin.get(f"/quan-tri/nguoi-dung/{clerk.id}").get_data(as_text=True)
    assert page.count("<tr><td>") == 1  # one open session
    refused = client_as(app, clerk).get(f"/quan-tri/nguoi-dung/{clerk.id}")
    assert refused.status_code == 403


# --- what a request costs -------------------------------------------------------------------------------------


class Statements:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.seen.append(statement)

    def touching(self, table: str) -> list[str]:
        return [s for s in self.seen if table in s]


@pytest.fixture
def statements(app: Flask) -> Any:
    spy = Statements()
    event.listen(db.engine, "before_cursor_execute", spy)
    yield spy
    event.remove(db.engine, "before_cursor_execute", spy)


def test_last_seen_is_written_at_most_once_a_minute(app: Flask, clerk: User, statements: Statements) -> None:
    with freeze_time(utcnow()) as clock:
        browser = client_as(app, clerk)
        statements.seen.clear()
        for _ in range(5):
            clock.tick(timedelta(seconds=10))
            assert is_logged_in(browser)
        assert len(statements.touching("FROM user_sessions")) == 5  # one read per request
        assert statements.touching("UPDATE user_sessions") == []  # and no write within the minute
        clock.tick(timedelta(seconds=11))
        assert is_logged_in(browser)
        assert len(statements.touching("UPDATE user_sessions")) == 1
    (row,) = sessions_of(clerk)
    assert row.last_seen_at > row.created_at


def test_the_api_and_the_kiosk_never_look_at_sessions(
    app: Flask, factory: Factory, clerk_setup: tuple[Establishment, User], statements: Statements
) -> None:
    from tests.support.kiosk import make_kiosk

    est, clerk = clerk_setup
    secret = factory.token(est)
    kiosk = make_kiosk(app, factory, est=est)
    browser = client_as(app, clerk)  # a logged-in browser too: its cookie must not ride along anywhere
    statements.seen.clear()
    api = new_client(app)
    response = api.post(
        "/api/v1/stays",
        json={"guests": [{"qr": CARD}], "reason": "Du lịch"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201
    assert api.get("/api/v1/stays", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert kiosk.client.get("/kiosk/api/gio").status_code == 200
    assert statements.touching("user_sessions") == []
    assert is_logged_in(browser)


# --- no-store ---------------------------------------------------------------------------------------------------


def test_answers_with_peoples_data_are_never_stored(
    app: Flask, factory: Factory, clerk_setup: tuple[Establishment, User]
) -> None:
    from tests.support.kiosk import make_kiosk

    est, clerk = clerk_setup
    browser = client_as(app, clerk)
    for url in (f"/co-so/{est.code}/", f"/co-so/{est.code}/lich-su", "/tai-khoan/", "/co-so/"):
        response = browser.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    secret = factory.token(est)
    api = new_client(app).get("/api/v1/stays", headers={"Authorization": f"Bearer {secret}"})
    assert api.headers["Cache-Control"] == "no-store"
    kiosk = make_kiosk(app, factory, est=est)
    assert kiosk.client.get("/kiosk/api/gio").headers["Cache-Control"] == "no-store"
    assert kiosk.client.get("/kiosk/").headers["Cache-Control"] == "no-store"
    refused = new_client(app).get("/api/v1/stays")
    assert refused.status_code == 401 and refused.headers["Cache-Control"] == "no-store"
    # Public files keep their caching.
    with new_client(app).get("/static/app.css") as static:
        assert static.status_code == 200
        assert "no-store" not in static.headers.get("Cache-Control", "")


def test_the_kiosk_pin_limit_answers_json_to_the_kiosk_script(
    app: Flask, factory: Factory, clerk_setup: tuple[Establishment, User]
) -> None:
    """kiosk.js sends JSON and reads every answer as JSON, its 429 included; it sends no Accept header."""
    from tests.support.kiosk import make_kiosk

    kiosk = make_kiosk(app, factory, est=clerk_setup[0])
    token = kiosk.csrf()
    answers = [
        kiosk.client.post("/kiosk/api/nhan-vien", json={"pin": "0000", "key": "x"}, headers={"X-CSRFToken": token})
        for _ in range(12)
    ]
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    for answer in limited:
        assert answer.mimetype == "application/json"
        assert answer.get_json()["error"]["code"] in ("too_many_requests", "pin_locked")
        assert answer.headers["Cache-Control"] == "no-store"
    assert any(a.get_json()["error"]["code"] == "too_many_requests" for a in limited)
