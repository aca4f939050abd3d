"""The second factor (issue 11.2), through the pages: in the production configuration an officer reaches no page
before passing it; enrolment by QR code; a code works once; recovery codes work once each; the demo (Dev) logs
in with a password only; a voluntary second factor for other roles; an admin's reset after a lost phone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select

from asm import create_app
from asm.accounts.models import AccessLog, RecoveryCode, Role, User
from asm.clock import utcnow
from asm.config import Dev, Prod, Test, role_list
from asm.extensions import db
from tests.conftest import Factory
from tests.support.auth import (
    browser,
    code,
    enrol,
    password_step,
    post,
    prod_app,
    recovery_codes,
    second_step,
    secret_from,
)
from tests.support.desk import client_as, use_fast_password_hashes


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def prod(database_url: str, app: Flask) -> Any:
    with prod_app(database_url) as prod:
        yield prod


@pytest.fixture
def officer(factory: Factory) -> User:
    return factory.user(Role.OFFICER, commune="00004")


def get_pages(app: Flask) -> list[str]:
    """Every GET page of the app without a parameter, and an establishment's list: what a police user opens."""
    urls = sorted(
        r.rule
        for r in app.url_map.iter_rules()
        if "GET" in (r.methods or ()) and "<" not in r.rule and not r.rule.startswith(("/static", "/kiosk", "/api"))
    )
    return [*urls, "/co-so/EST-1/", "/cong-an/nguoi/1?ly_do=x"]


def actions(user: User) -> list[str]:
    db.session.expire_all()
    query = select(AccessLog.action).where(AccessLog.target == user.username).order_by(AccessLog.id)
    return list(db.session.scalars(query))


def is_public(app: Flask, url: str) -> bool:
    adapter = app.url_map.bind("asm.test")
    endpoint, _args = adapter.match(urlsplit(url).path)
    return getattr(app.view_functions[endpoint], "access_rule", None) == ("public",)


def test_the_defaults_require_it_for_police_and_admin_in_production_only() -> None:
    assert role_list(Prod.REQUIRE_2FA_ROLES) == {"officer", "supervisor", "admin"}
    assert role_list(Dev.REQUIRE_2FA_ROLES) == role_list(Test.REQUIRE_2FA_ROLES) == frozenset()
    assert role_list("officer, Supervisor,,") == {"officer", "supervisor"}
    assert role_list(["clerk"]) == {"clerk"}


def test_a_misspelt_role_stops_the_start() -> None:
    with pytest.raises(RuntimeError, match="REQUIRE_2FA_ROLES"):
        create_app(Test, SQLALCHEMY_DATABASE_URI="sqlite://", REQUIRE_2FA_ROLES="officer,superviser")


def test_the_environment_sets_the_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASM_REQUIRE_2FA_ROLES", "officer,clerk")
    app = create_app(Test, SQLALCHEMY_DATABASE_URI="sqlite://")
    assert role_list(app.config["REQUIRE_2FA_ROLES"]) == {"officer", "clerk"}


def test_an_officer_reaches_no_page_before_the_second_factor(prod: Flask, factory: Factory, officer: User) -> None:
    factory.establishment(code="EST-1")
    client = browser(prod)
    with freeze_time(utcnow()) as clock:
        response = password_step(client, officer.username)
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/dang-nhap/dang-ky-xac-thuc"
        opened = []
        for url in get_pages(prod):
            if is_public(prod, url):
                continue
            answer = client.get(url)
            if not (answer.status_code == 302 and urlsplit(answer.headers["Location"]).path == "/dang-nhap"):
                opened.append((url, answer.status_code))
        assert opened == []
        assert client.get("/tai-khoan/").status_code == 302
        # Enrolment: the QR code and the key under it, then a first code.
        page = client.get("/dang-nhap/dang-ky-xac-thuc").get_data(as_text=True)
        assert "<svg" in page and 'class="segno"' in page
        secret = secret_from(page)
        assert post(client, "/dang-nhap/dang-ky-xac-thuc", {"code": "000000"}).status_code == 422
        assert client.get("/cong-an/").status_code == 302
        clock.tick(timedelta(seconds=1))
        done = post(client, "/dang-nhap/dang-ky-xac-thuc", {"code": code(secret)})
        assert done.status_code == 200
        assert len(recovery_codes(done.get_data(as_text=True))) == 10
        assert client.get("/cong-an/").status_code == 200
    db.session.expire_all()
    user = db.session.get(User, officer.id)
    assert user.has_totp and user.totp_secret == secret
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == officer.id)).all()
    assert len(stored) == 10 and not set(recovery_codes(done.get_data(as_text=True))) & set(stored)  # hashes only
    assert actions(officer) == ["login_password_ok", "2fa_failed", "2fa_enrolled", "login"]


def test_the_next_login_asks_for_a_code_that_works_once(prod: Flask, officer: User) -> None:
    with freeze_time(utcnow()) as clock:
        secret, _codes = enrol(browser(prod), officer.username)
        clock.tick(timedelta(seconds=30))
        client = browser(prod)
        response = password_step(client, officer.username)
        assert urlsplit(response.headers["Location"]).path == "/dang-nhap/ma-xac-thuc"
        assert client.get("/cong-an/").status_code == 302
        wrong = second_step(client, "123456" if code(secret) != "123456" else "654321")
        assert wrong.status_code == 401
        assert client.get("/cong-an/").status_code == 302
        used = code(secret)
        assert second_step(client, used).status_code == 302
        assert client.get("/cong-an/").status_code == 200
        # The same code, seen over a shoulder, opens nothing within its 30 seconds.
        thief = browser(prod)
        password_step(thief, officer.username)
        assert second_step(thief, used).status_code == 401
        assert thief.get("/cong-an/").status_code == 302
        clock.tick(timedelta(seconds=30))
        assert second_step(thief, code(secret)).status_code == 302  # the next step's code does
    assert actions(officer)[3:] == [
        "login_password_ok",
        "2fa_failed",
        "2fa_passed",
        "login",
        "login_password_ok",
        "2fa_failed",
        "2fa_passed",
        "login",
    ]


def test_recovery_codes_work_once_each(prod: Flask, officer: User) -> None:
    with freeze_time(utcnow()):
        _secret, codes = enrol(browser(prod), officer.username)
    for i, recovery in enumerate(codes[:3]):
        client = browser(prod)
        password_step(client, officer.username)
        typed = recovery.upper().replace("-", " ") if i == 1 else recovery  # as typed from paper
        response = second_step(client, typed)
        assert response.status_code == 302, i
        assert client.get("/cong-an/").status_code == 200
        again = browser(prod)
        password_step(again, officer.username)
        assert second_step(again, recovery).status_code == 401
        assert again.get("/cong-an/").status_code == 302
    used = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == officer.id, RecoveryCode.used_at.is_not(None))
    ).all()
    assert len(used) == 3
    assert actions(officer).count("2fa_passed") == 3


def test_a_pending_login_expires(prod: Flask, officer: User) -> None:
    with freeze_time(utcnow()) as clock:
        secret, _codes = enrol(browser(prod), officer.username)
        client = browser(prod)
        password_step(client, officer.username)
        clock.tick(timedelta(seconds=301))
        response = second_step(client, code(secret))
        assert urlsplit(response.headers["Location"]).path == "/dang-nhap"
        assert client.get("/cong-an/").status_code == 302


def test_the_demo_logs_in_with_a_password_only(app: Flask, officer: User) -> None:
    """Dev and the tests' configuration require no second factor: the demo logins keep working."""
    client = client_as(app, officer)
    assert client.get("/cong-an/").status_code == 200


def test_a_clerk_may_turn_it_on_and_then_needs_it(prod: Flask, factory: Factory) -> None:
    est = factory.establishment()
    clerk = factory.user(Role.CLERK, establishment=est)
    with freeze_time(utcnow()) as clock:
        client = browser(prod)
        assert password_step(client, clerk.username).status_code == 302  # not required: logged in
        page = client.get("/tai-khoan/xac-thuc-2-buoc").get_data(as_text=True)
        secret = secret_from(page)
        enabled = post(client, "/tai-khoan/xac-thuc-2-buoc/bat", {"code": code(secret)})
        assert enabled.status_code == 200 and len(recovery_codes(enabled.get_data(as_text=True))) == 10
        clock.tick(timedelta(seconds=30))
        again = browser(prod)
        response = password_step(again, clerk.username)
        assert urlsplit(response.headers["Location"]).path == "/dang-nhap/ma-xac-thuc"
        assert again.get(f"/co-so/{est.code}/").status_code == 302
        assert second_step(again, code(secret)).status_code == 302
        clock.tick(timedelta(seconds=30))
        assert post(again, "/tai-khoan/xac-thuc-2-buoc/tat", {"code": code(secret)}).status_code == 303
        clock.tick(timedelta(seconds=30))
        assert password_step(browser(prod), clerk.username).headers["Location"].endswith("/")


def test_an_officer_cannot_turn_it_off(prod: Flask, officer: User) -> None:
    with freeze_time(utcnow()) as clock:
        secret, _codes = enrol(client := browser(prod), officer.username)
        clock.tick(timedelta(seconds=30))
        post(client, "/tai-khoan/xac-thuc-2-buoc/tat", {"code": code(secret)})
    db.session.expire_all()
    assert db.session.get(User, officer.id).has_totp


def test_new_recovery_codes_replace_the_old_ones(prod: Flask, officer: User) -> None:
    with freeze_time(utcnow()) as clock:
        secret, old = enrol(client := browser(prod), officer.username)
        clock.tick(timedelta(seconds=30))
        page = post(client, "/tai-khoan/xac-thuc-2-buoc/ma-du-phong", {"code": code(secret)})
        new = recovery_codes(page.get_data(as_text=True))
        assert len(new) == 10 and not set(new) & set(old)
    stale = browser(prod)
    password_step(stale, officer.username)
    assert second_step(stale, old[0]).status_code == 401
    fresh = browser(prod)
    password_step(fresh, officer.username)
    assert second_step(fresh, new[0]).status_code == 302


def test_an_admin_resets_a_lost_phone(prod: Flask, factory: Factory, officer: User, database_url: str) -> None:
    with freeze_time(utcnow()) as clock:
        enrol(phone := browser(prod), officer.username)
        admin_user = factory.user(Role.ADMIN)
        admin = browser(prod)
        admin_secret, _ = enrol(admin, admin_user.username)
        clock.tick(timedelta(seconds=30))
        assert post(admin, f"/quan-tri/nguoi-dung/{officer.id}/xac-thuc-2-buoc/dat-lai").status_code == 303
        assert phone.get("/cong-an/").status_code == 302  # the lost phone's browser is logged out too
        client = browser(prod)
        response = password_step(client, officer.username)
        assert urlsplit(response.headers["Location"]).path == "/dang-nhap/dang-ky-xac-thuc"
    assert "2fa_reset" in db.session.scalars(select(AccessLog.action).where(AccessLog.user_id == admin_user.id)).all()
    assert admin_secret != ""


def test_the_cli_resets_a_second_factor(prod: Flask, app: Flask, officer: User) -> None:
    with freeze_time(utcnow()):
        enrol(browser(prod), officer.username)
    db.session.expire_all()  # the CLI shares this test's session: let it read what the pages wrote
    result = app.test_cli_runner().invoke(args=["users", "reset-2fa", officer.username])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert not db.session.get(User, officer.id).has_totp
    assert password_step(browser(prod), officer.username).headers["Location"].endswith("/dang-nhap/dang-ky-xac-thuc")
