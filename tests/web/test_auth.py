"""Logging in and out, CSRF, the session cookie, production's refusal of default secrets, the login rate limit,
and the `next` parameter."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select

from asm import create_app
from asm.accounts.models import User
from asm.clock import to_local, utcnow
from asm.config import DEV_SECRET, Prod
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.people.models import Person
from asm.stays.models import Stay, StayEvent
from tests.conftest import CARD, PASSWORD, Factory, csrf_token, post_form
from tests.support.desk import (
    check_in_form,
    count,
    htmx_headers,
    new_client,
    scanned_guest,
    use_fast_password_hashes,
)

REAL_SECRET = "k" * 40
BAD_LOGIN = "Sai tên đăng nhập hoặc mật khẩu."


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def clerk(clerk_setup: tuple[Establishment, User]) -> User:
    return clerk_setup[1]


def logged_in_user_id(client: FlaskClient) -> str | None:
    with client.session_transaction() as session:
        return session.get("_user_id")


def login(client: FlaskClient, username: str, password: str, query: str = "") -> object:
    return post_form(client, "/dang-nhap" + query, {"username": username, "password": password})


def arrival_now() -> str:
    return to_local(utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")


# --- login and logout -----------------------------------------------------------------------------------


def test_login_then_logout(client: FlaskClient, clerk_setup: tuple[Establishment, User]) -> None:
    est, clerk = clerk_setup
    assert client.get("/dang-nhap").status_code == 200

    response = login(client, clerk.username.upper() + " ", PASSWORD)  # as typed: case and a stray space
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/"
    assert logged_in_user_id(client) == str(clerk.id)
    home = client.get("/")
    assert urlsplit(home.headers["Location"]).path == f"/co-so/{est.code}/"  # a one-establishment clerk
    assert clerk.full_name in client.get(f"/co-so/{est.code}/").get_data(as_text=True)

    response = post_form(client, "/dang-xuat")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/dang-nhap"
    assert logged_in_user_id(client) is None
    assert urlsplit(client.get(f"/co-so/{est.code}/").headers["Location"]).path == "/dang-nhap"


def test_logout_is_a_post(client: FlaskClient, login_as, clerk: User) -> None:
    login_as(clerk)
    assert client.get("/dang-xuat").status_code == 405  # a link or an <img> cannot log anyone out
    assert logged_in_user_id(client) == str(clerk.id)


@pytest.mark.parametrize("who", ["wrong password", "unknown user", "empty password"])
def test_a_wrong_login_is_401_and_opens_no_session(client: FlaskClient, clerk: User, who: str) -> None:
    username, password = {
        "wrong password": (clerk.username, PASSWORD + "x"),
        "unknown user": ("nobody", PASSWORD),
        "empty password": (clerk.username, ""),
    }[who]
    response = login(client, username, password)
    assert response.status_code == 401
    assert BAD_LOGIN in response.get_data(as_text=True)
    assert logged_in_user_id(client) is None
    assert urlsplit(client.get("/co-so/").headers["Location"]).path == "/dang-nhap"


def test_a_deactivated_user_cannot_log_in(client: FlaskClient, clerk: User) -> None:
    clerk.active = False
    db.session.commit()
    assert login(client, clerk.username, PASSWORD).status_code == 401
    assert logged_in_user_id(client) is None


# --- CSRF -----------------------------------------------------------------------------------------------


def test_a_form_post_without_the_token_is_refused_and_stores_nothing(
    app: Flask, client: FlaskClient, login_as, clerk_setup: tuple[Establishment, User]
) -> None:
    est, clerk = clerk_setup
    login_as(clerk)
    data = check_in_form([scanned_guest(client, est.code, CARD)], arrived_at=arrival_now())
    response = client.post(f"/co-so/{est.code}/nhan-phong", data=data)  # no csrf_token field, no header
    assert response.status_code == 400
    assert (count(Person), count(Stay), count(StayEvent)) == (0, 0, 0)


def test_a_login_without_the_token_is_refused(client: FlaskClient, clerk: User) -> None:
    client.get("/dang-nhap")
    response = client.post("/dang-nhap", data={"username": clerk.username, "password": PASSWORD})
    assert response.status_code == 400
    assert logged_in_user_id(client) is None


def test_another_sessions_token_is_refused(
    app: Flask, client: FlaskClient, login_as, clerk_setup: tuple[Establishment, User]
) -> None:
    est, clerk = clerk_setup
    login_as(clerk)
    data = check_in_form([scanned_guest(client, est.code, CARD)], arrived_at=arrival_now())
    stranger_token = csrf_token(new_client(app))  # a token a forging page could get from its own session
    response = client.post(f"/co-so/{est.code}/nhan-phong", data={**data, "csrf_token": stranger_token})
    assert response.status_code == 400
    assert count(Stay) == 0


def test_an_htmx_post_with_the_header_token_works(
    client: FlaskClient, login_as, clerk_setup: tuple[Establishment, User]
) -> None:
    est, clerk = clerk_setup
    login_as(clerk)
    data = check_in_form([scanned_guest(client, est.code, CARD)], arrived_at=arrival_now())
    response = client.post(f"/co-so/{est.code}/nhan-phong", data=data, headers=htmx_headers(client))
    assert response.status_code == 204
    stay = db.session.scalars(select(Stay)).one()
    assert urlsplit(response.headers["HX-Redirect"]).path == f"/co-so/{est.code}/luu-tru/{stay.id}"


def test_an_htmx_post_without_the_header_is_refused(
    client: FlaskClient, login_as, clerk_setup: tuple[Establishment, User]
) -> None:
    est, clerk = clerk_setup
    login_as(clerk)
    response = client.post(f"/co-so/{est.code}/quet", data={"text": CARD}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "Nguyễn Thị Hoa" not in response.get_data(as_text=True)


def test_the_api_needs_no_csrf_token_but_a_bearer_token(client: FlaskClient, factory: Factory) -> None:
    """The API is exempt from CSRF (no cookies ride along); a session cookie alone does not open it."""
    est = factory.establishment()
    secret = factory.token(est)
    body = {"guests": [{"qr": CARD}], "reason": "Du lịch"}
    assert client.post("/api/v1/stays", json=body).status_code == 401
    response = client.post("/api/v1/stays", json=body, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 201, response.get_json()


# --- the session cookie ---------------------------------------------------------------------------------


def session_cookie_header(response: object) -> str:
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]  # type: ignore[attr-defined]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_the_session_cookie_is_httponly_and_samesite_lax(client: FlaskClient, clerk: User) -> None:
    header = session_cookie_header(login(client, clerk.username, PASSWORD))
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in header.split(";")[1:]}
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "samesite=lax"
    assert "secure" not in attributes  # the test config is the development one: http://127.0.0.1


def test_production_marks_cookies_secure(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("ASM_ENV", "prod")
    prod = create_app(Prod, SECRET_KEY=REAL_SECRET, SQLALCHEMY_DATABASE_URI=database_url)
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["REMEMBER_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    header = session_cookie_header(prod.test_client().get("/dang-nhap", base_url="https://asm.example.vn"))
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header


@pytest.mark.parametrize("secret", [None, "", DEV_SECRET, "short-but-not-empty"])
def test_production_refuses_to_start_without_a_real_secret(
    monkeypatch: pytest.MonkeyPatch, database_url: str, secret: str | None
) -> None:
    monkeypatch.setenv("ASM_ENV", "prod")
    for name in ("SECRET_KEY", "ASM_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    overrides = {} if secret is None else {"SECRET_KEY": secret}
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Prod, SQLALCHEMY_DATABASE_URI=database_url, **overrides)


def test_production_reads_its_secret_and_database_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("ASM_ENV", "prod")
    for name in ("SECRET_KEY", "ASM_SECRET_KEY", "DATABASE_URL", "ASM_SQLALCHEMY_DATABASE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", REAL_SECRET)
    app = create_app()
    assert app.config["SECRET_KEY"] == REAL_SECRET
    assert app.config["SESSION_COOKIE_SECURE"] is True
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        create_app()


# --- login rate limit -----------------------------------------------------------------------------------


def test_the_eleventh_login_from_one_address_in_a_minute_is_429(app: Flask, clerk: User) -> None:
    """Per address: ten attempts a minute, whatever the names tried (one password sprayed over many accounts).
    The per-account back-off is tests/web/test_login_defence.py."""
    with freeze_time(utcnow()) as clock:
        client = new_client(app)
        for i in range(10):
            assert login(client, f"nobody{i}", "wrong-password").status_code == 401
        response = login(client, "nobody10", "wrong-password")
        assert response.status_code == 429
        # Even the right password waits: the limit counts attempts, not failures.
        assert login(client, clerk.username, PASSWORD).status_code == 429
        assert logged_in_user_id(client) is None
        # Another address is not held back by this one's guesses.
        assert login(new_client(app), clerk.username, PASSWORD).status_code == 302
        clock.tick(timedelta(seconds=61))
        assert login(client, clerk.username, PASSWORD).status_code == 302


# --- open redirects -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "//evil.example/co-so/", "https://evil.example/", "/\\evil.example", "http:/evil.example"],
)
def test_next_cannot_send_the_user_to_another_site(client: FlaskClient, clerk: User, target: str) -> None:
    response = client.post(
        "/dang-nhap",
        query_string={"next": target},
        data={"username": clerk.username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    # Browsers read a backslash as a slash: resolve the Location as they would.
    resolved = urlsplit(urljoin("http://asm.test/dang-nhap", location.replace("\\", "/")))
    assert resolved.netloc == "asm.test"
    if "\\" not in target:  # a backslash is escaped by Werkzeug into a harmless local path (/%5Cevil.example)
        assert resolved.path == "/"


def test_a_local_next_is_followed(client: FlaskClient, clerk: User) -> None:
    response = login(client, clerk.username, PASSWORD, query="?next=/co-so/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/co-so/"


def test_a_page_sends_the_anonymous_user_to_login_and_back(
    client: FlaskClient, clerk_setup: tuple[Establishment, User]
) -> None:
    est, clerk = clerk_setup
    response = client.get(f"/co-so/{est.code}/lich-su")
    assert response.status_code == 302
    to_login = response.headers["Location"]
    assert urlsplit(to_login).path == "/dang-nhap"
    response = client.post(
        to_login, data={"username": clerk.username, "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert urlsplit(response.headers["Location"]).path == f"/co-so/{est.code}/lich-su"
