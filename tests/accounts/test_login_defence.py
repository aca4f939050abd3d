"""Login defence (issue 11.3): a per-account back-off that a hundred addresses cannot turn into a login or into a
long lockout of the real officer, counted per source, shared through Redis; the password rules for new passwords.
Time is frozen and moved by hand (freezegun), never slept."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import func, select

from asm.accounts import passwords
from asm.accounts.defence import Backoff
from asm.accounts.models import AccessLog, Role, User, UserSession
from asm.clock import utcnow
from asm.extensions import db
from tests.conftest import PASSWORD, Factory, second_app
from tests.support.auth import browser, code, enrol, password_step, post, prod_app, second_step
from tests.support.desk import client_as, use_fast_password_hashes

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def prod(database_url: str, app: Flask) -> Flask:
    with prod_app(database_url) as prod:
        yield prod


@pytest.fixture
def officer(factory: Factory) -> User:
    return factory.user(Role.OFFICER, commune="00004")


def logins(user: User) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(UserSession.id)).where(UserSession.user_id == user.id)) or 0


def log_actions(target: str) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AccessLog.action).where(AccessLog.target == target).order_by(AccessLog.id)))


def test_the_back_off_doubles_and_is_capped() -> None:
    rule = Backoff(after=5, base=30, cap=900)
    assert [rule.delay(n) for n in range(13)] == [0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]
    assert rule.delay(10_000) == 900


def test_a_hundred_addresses_lock_the_account_and_never_get_in(prod: Flask, officer: User) -> None:
    with freeze_time(utcnow()) as clock:
        secret, _codes = enrol(browser(prod), officer.username)
        assert logins(officer) == 1
        clock.tick(timedelta(seconds=30))
        answers = []
        for i in range(100):
            attacker = browser(prod)  # each guess from another address: the per-address limit never trips
            guess = PASSWORD if i % 10 == 9 else f"guess-{i}"  # now and then the leaked right password
            response = password_step(attacker, officer.username, guess)
            answers.append(response.status_code)
            assert attacker.get("/cong-an/").status_code == 302
        assert answers[:5] == [401] * 5  # five tries...
        assert answers[5:] == [429] * 95  # ...then locked, the right password too: it is not even looked at
        assert logins(officer) == 1
        actions = log_actions(officer.username)[3:]
        assert actions[:6] == ["login_failed"] * 5 + ["lockout"]
        assert actions[6:] == ["login_locked"] * 95
        # The lock is short: after the back-off the officer logs in with the password and the second factor.
        clock.tick(timedelta(seconds=31))
        client = browser(prod)
        response = password_step(client, officer.username)
        assert urlsplit(response.headers["Location"]).path == "/dang-nhap/ma-xac-thuc"
        assert second_step(client, code(secret)).status_code == 302
        assert client.get("/cong-an/").status_code == 200
        assert logins(officer) == 2


def test_a_continued_attack_locks_longer_but_never_past_the_cap(prod: Flask, officer: User) -> None:
    with freeze_time(utcnow()) as clock:
        for i in range(5):
            assert password_step(browser(prod), officer.username, f"guess-{i}").status_code == 401
        waits = []
        for i in range(8):
            refused = password_step(browser(prod), officer.username, "guess")
            assert refused.status_code == 429
            wait = int(refused.headers["Retry-After"])
            waits.append(wait)
            clock.tick(timedelta(seconds=wait))
            assert password_step(browser(prod), officer.username, f"again-{i}").status_code == 401  # one more try
        assert waits == [30, 60, 120, 240, 480, 900, 900, 900]
        # The real officer's wait is never longer than the cap after the last guess.
        clock.tick(timedelta(seconds=900))
        assert password_step(browser(prod), officer.username).status_code == 302
    assert logins(officer) == 0  # the password passed; the second factor (not enrolled yet) comes next


def test_the_officers_own_browser_is_not_locked_out_by_others_guesses(prod: Flask, officer: User) -> None:
    with freeze_time(utcnow()) as clock:
        desk = browser(prod)
        secret, _codes = enrol(desk, officer.username)  # this browser is now a known source for the officer
        post(desk, "/dang-xuat")
        for i in range(20):
            password_step(browser(prod), officer.username, f"guess-{i}")
        assert password_step(browser(prod), officer.username).status_code == 429  # strangers: locked
        clock.tick(timedelta(seconds=30))
        response = password_step(desk, officer.username)  # the officer's terminal: its own count
        assert urlsplit(response.headers["Location"]).path == "/dang-nhap/ma-xac-thuc"
        assert second_step(desk, code(secret)).status_code == 302
        assert desk.get("/cong-an/").status_code == 200
        # Its own typos count on it alone, with the same back-off.
        post(desk, "/dang-xuat")
        for i in range(5):
            assert password_step(desk, officer.username, f"typo-{i}").status_code == 401
        assert password_step(desk, officer.username).status_code == 429


def test_wrong_second_factor_codes_count_too(prod: Flask, officer: User) -> None:
    """Someone who has the password still gets five codes, then the same back-off."""
    with freeze_time(utcnow()) as clock:
        secret, _codes = enrol(browser(prod), officer.username)
        clock.tick(timedelta(seconds=30))
        thief = browser(prod)
        password_step(thief, officer.username)
        wrong = "000000" if code(secret) != "000000" else "111111"
        assert [second_step(thief, wrong).status_code for _ in range(6)] == [401] * 5 + [429]
        assert second_step(thief, code(secret)).status_code == 429  # the right code waits too
        assert thief.get("/cong-an/").status_code == 302
        assert log_actions(officer.username).count("2fa_failed") == 5


def test_unknown_names_are_answered_like_real_ones(prod: Flask) -> None:
    """The same five tries and lock for a name that is no account: the answers do not tell which names exist."""
    with freeze_time(utcnow()):
        answers = [password_step(browser(prod), "khong.co.ai", f"guess-{i}").status_code for i in range(7)]
    assert answers == [401] * 5 + [429] * 2
    assert log_actions("khong.co.ai")[:6] == ["login_failed"] * 5 + ["lockout"]
    db.session.expire_all()
    assert db.session.scalars(select(AccessLog.user_id).where(AccessLog.target == "khong.co.ai")).all() == [None] * 8


def test_the_counts_are_shared_by_workers_through_redis(database_url: str, factory: Factory) -> None:
    """Two app instances (two gunicorn workers) with REDIS_URL: guesses at either count against the same account."""
    name = f"ca{uuid.uuid4().hex[:10]}"  # Redis outlives the test: a name no other run uses
    user = factory.user(Role.OFFICER, commune="00004", username=name)
    with (
        second_app(database_url, RATELIMIT_STORAGE_URI=REDIS) as one,
        second_app(database_url, RATELIMIT_STORAGE_URI=REDIS) as two,
    ):
        workers = [one, two]
        answers = []
        for i in range(7):
            worker = workers[i % 2]
            with worker.app_context():
                answers.append(password_step(browser(worker), name, f"guess-{i}").status_code)
        assert answers == [401] * 5 + [429] * 2
        with one.app_context():
            from asm import ratelimit

            ratelimit.windows().forgive("login", f"account:{name}")
            assert password_step(browser(one), name).status_code == 302
    assert user.username == name


# --- new passwords ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("short-1", ["password_short"]),
        ("1234567890", ["password_common"]),
        ("password123", ["password_common"]),
        ("Password2024!", ["password_common"]),  # a listed word with digits and signs
        ("anhyeuem2024", ["password_common"]),  # the Vietnamese list
        ("aaaaaaaaaaaa", ["password_repetitive"]),
        ("ca.hoankiem-2025", ["password_username"]),
        ("Tram-lang-ven-song-42", []),
        ("sông Hồng mùa lũ", []),
    ],
)
def test_the_password_rules(password: str, problems: list[str]) -> None:
    assert passwords.problems(password, username="ca.hoankiem", min_length=10) == problems


def test_the_common_list_comes_from_the_package_and_ours() -> None:
    words = passwords.common_passwords()
    assert len(words) > 30_000 and "qwertyuiop" in words and "matkhau" in words


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("ngan-1", "ít nhất 10 ký tự"),
        ("qwertyuiop", "quá phổ biến"),
        ("matkhau2025!", "quá phổ biến"),
    ],
)
def test_the_password_page_refuses_weak_passwords(app: Flask, factory: Factory, new: str, message: str) -> None:
    est = factory.establishment()
    clerk = factory.user(Role.CLERK, establishment=est)
    client = client_as(app, clerk)
    response = post(client, "/tai-khoan/mat-khau", {"current": PASSWORD, "password": new, "confirm": new})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, clerk.id).password_changed_at is None


def test_the_cli_refuses_a_weak_password_for_a_new_user(app: Flask) -> None:
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["users", "create", "--username", "ca1", "--role", "admin", "--password", "admin12345"])
    assert weak.exit_code == 1 and "phổ biến" in weak.output
    good = runner.invoke(
        args=["users", "create", "--username", "ca1", "--role", "admin", "--password", "Tram-lang-ven-song-42"]
    )
    assert good.exit_code == 0, good.output
