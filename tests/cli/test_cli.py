"""The `flask` commands, through `app.test_cli_runner()`: units, establishments, users, tokens, demo data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import delete, func, select

from asm.accounts.models import ApiToken, Role, User
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.geo.models import Commune, Province
from asm.geo.services import load_units
from asm.stays.models import Stay
from tests.conftest import Factory, csrf_token
from tests.support.desk import count, new_client, use_fast_password_hashes

PASSWORD = "mat-khau-dai-1"
PROVINCES, COMMUNES = 34, 3321


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


@pytest.fixture
def flask(app: Flask) -> Any:
    runner = app.test_cli_runner()

    def run(*args: str) -> Result:
        result = runner.invoke(args=list(args))
        db.session.expire_all()
        return result

    return run


def can_log_in(app: Flask, username: str, password: str) -> bool:
    client = new_client(app)
    response = client.post(
        "/dang-nhap", data={"username": username, "password": password, "csrf_token": csrf_token(client)}
    )
    return response.status_code == 302


# --- units ----------------------------------------------------------------------------------------------


@pytest.fixture
def units_restored() -> Iterator[None]:
    """On PostgreSQL the unit tables outlive the test: whatever happens, leave them complete."""
    try:
        yield
    finally:
        db.session.rollback()
        load_units()
        db.session.commit()


def test_units_load_adds_what_is_missing_and_is_idempotent(flask: Any, units_restored: None) -> None:
    lao_cai = db.session.scalar(select(func.count()).where(Commune.province_code == "15"))
    assert lao_cai
    db.session.execute(delete(Commune).where(Commune.province_code == "15"))
    db.session.get(Commune, "00004").name = "Tên sai"
    db.session.commit()

    result = flask("units", "load")
    assert result.exit_code == 0, result.output
    assert f"units: 0 provinces and {lao_cai} communes added" in result.output
    assert (count(Province), count(Commune)) == (PROVINCES, COMMUNES)
    assert db.session.get(Commune, "00004").name == "Phường Ba Đình"

    again = flask("units", "load")
    assert again.exit_code == 0, again.output
    assert "units: 0 provinces and 0 communes added" in again.output
    assert (count(Province), count(Commune)) == (PROVINCES, COMMUNES)


# --- establishments -------------------------------------------------------------------------------------

NEW_PLACE = ("--name", "Khách sạn Mới", "--type", "hotel", "--address", "1 Phố Huế, Hà Nội")


def test_establishments_create(flask: Any) -> None:
    result = flask(
        "establishments", "create", "--code", "hn-ks-moi", *NEW_PLACE, "--commune", "00004", "--rooms", "101,102,201"
    )
    assert result.exit_code == 0, result.output
    assert "created establishment HN-KS-MOI with 3 rooms" in result.output
    est = db.session.scalars(select(Establishment)).one()
    assert (est.code, est.name, est.type, est.commune_code) == ("HN-KS-MOI", "Khách sạn Mới", "hotel", "00004")
    assert [r.name for r in est.rooms] == ["101", "102", "201"]


def test_establishments_create_refuses_an_unknown_commune(flask: Any) -> None:
    result = flask("establishments", "create", "--code", "X-1", *NEW_PLACE, "--commune", "99999")
    assert result.exit_code == 1
    assert "Xã/phường không có trong danh mục." in result.output
    assert count(Establishment) == 0


def test_establishments_create_refuses_a_duplicate_code(flask: Any) -> None:
    assert flask("establishments", "create", "--code", "X-1", *NEW_PLACE, "--commune", "00004").exit_code == 0
    result = flask("establishments", "create", "--code", "x-1", *NEW_PLACE, "--commune", "00070")
    assert result.exit_code == 1
    assert "Mã cơ sở đã có." in result.output
    assert count(Establishment) == 1
    assert db.session.scalars(select(Establishment)).one().commune_code == "00004"


def test_establishments_create_refuses_an_unknown_type(flask: Any) -> None:
    place = (*NEW_PLACE[:2], "--type", "castle", *NEW_PLACE[4:])
    result = flask("establishments", "create", "--code", "X-1", *place, "--commune", "00004")
    assert result.exit_code == 2  # a usage error: click lists the allowed types
    assert "'castle' is not one of" in result.output and "hospital" in result.output
    assert count(Establishment) == 0


# --- users ----------------------------------------------------------------------------------------------


def staff_of(*codes: str) -> Any:
    return lambda u: [e.code for e in u.establishments] == list(codes) and u.commune_code is None


def police_of(commune: str | None, province: str | None) -> Any:
    return lambda u: u.establishments == [] and (u.commune_code, u.province_code) == (commune, province)


@pytest.mark.parametrize(
    ("role", "binding", "check"),
    [
        pytest.param("admin", (), police_of(None, None), id="admin"),
        pytest.param("owner", ("--establishment", "EST-1"), staff_of("EST-1"), id="owner"),
        pytest.param("clerk", ("--establishment", "EST-1"), staff_of("EST-1"), id="clerk"),
        pytest.param("officer", ("--commune", "00004"), police_of("00004", None), id="officer"),
        pytest.param("supervisor", ("--province", "01"), police_of(None, "01"), id="supervisor"),
    ],
)
def test_users_create_for_each_role(
    app: Flask, flask: Any, factory: Factory, role: str, binding: tuple[str, ...], check: Any
) -> None:
    factory.establishment(code="EST-1")
    result = flask(*f"users create --username Nguoi.Moi --role {role} --password {PASSWORD}".split(), *binding)
    assert result.exit_code == 0, result.output
    assert f"created user nguoi.moi ({role})" in result.output
    assert PASSWORD not in result.output
    user = db.session.scalars(select(User).where(User.username == "nguoi.moi")).one()
    assert user.role == role and user.full_name == "nguoi.moi"  # no --full-name: the username stands in
    assert check(user)
    assert can_log_in(app, "nguoi.moi", PASSWORD)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("--role", "officer"), "Cán bộ xã/phường phải gắn với một xã/phường có thật.", id="officer-without-commune"
        ),
        pytest.param(
            ("--role", "officer", "--commune", "99999"),
            "Cán bộ xã/phường phải gắn với một xã/phường có thật.",
            id="officer-unknown-commune",
        ),
        pytest.param(
            ("--role", "clerk"), "Chủ cơ sở và nhân viên phải gắn với một cơ sở.", id="clerk-without-establishment"
        ),
        pytest.param(
            ("--role", "owner"), "Chủ cơ sở và nhân viên phải gắn với một cơ sở.", id="owner-without-establishment"
        ),
        pytest.param(
            ("--role", "clerk", "--establishment", "KHONG-CO"),
            "no establishment with code 'KHONG-CO'",
            id="clerk-unknown-establishment",
        ),
        pytest.param(
            ("--role", "supervisor"),
            "Cán bộ tỉnh phải gắn với một tỉnh/thành có thật.",
            id="supervisor-without-province",
        ),
        pytest.param(("--role", "admin", "--password", "ngan"), "Mật khẩu cần ít nhất 10 ký tự.", id="short-password"),
    ],
)
def test_users_create_refuses_a_user_without_the_right_binding(flask: Any, args: tuple[str, ...], message: str) -> None:
    password = () if "--password" in args else ("--password", PASSWORD)
    result = flask("users", "create", "--username", "sai", *args, *password)
    assert result.exit_code == 1
    assert message in result.output
    assert count(User) == 0


def test_users_create_refuses_a_taken_username(flask: Any, factory: Factory) -> None:
    factory.user(Role.ADMIN, username="trung")
    result = flask("users", "create", "--username", "TRUNG", "--role", "admin", "--password", PASSWORD)
    assert result.exit_code == 1
    assert "Tên đăng nhập đã có." in result.output
    assert count(User) == 1


# --- tokens ---------------------------------------------------------------------------------------------


def test_tokens_create_prints_a_working_token_on_its_last_line_and_revoke_ends_it(
    app: Flask, flask: Any, factory: Factory
) -> None:
    factory.establishment(code="EST-1")
    result = flask("tokens", "create", "--establishment", "EST-1", "--name", "Phần mềm lễ tân")
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    token = db.session.scalars(select(ApiToken)).one()
    assert token.name == "Phần mềm lễ tân"
    assert secret not in (token.secret_hash, token.prefix)  # only a hash is kept

    client = new_client(app)
    headers = {"Authorization": f"Bearer {secret}"}
    response = client.get("/api/v1/stays", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"stays": [], "count": 0, "next": None}

    token_id = re.search(r"token (\d+)", result.output).group(1)  # type: ignore[union-attr]
    revoked = flask("tokens", "revoke", token_id)
    assert revoked.exit_code == 0, revoked.output
    assert f"revoked token {token_id}" in revoked.output
    assert client.get("/api/v1/stays", headers=headers).status_code == 401
    assert db.session.get(ApiToken, int(token_id)).revoked_at is not None


def test_tokens_errors(flask: Any) -> None:
    result = flask("tokens", "create", "--establishment", "KHONG-CO")
    assert result.exit_code == 1 and "no establishment with code 'KHONG-CO'" in result.output
    result = flask("tokens", "revoke", "999")
    assert result.exit_code == 1 and "no token 999" in result.output
    assert count(ApiToken) == 0


# --- demo -----------------------------------------------------------------------------------------------


def test_demo_load_builds_a_small_world_once(app: Flask, flask: Any) -> None:
    result = flask("demo", "load")
    assert result.exit_code == 0, result.output
    establishments = db.session.scalars(select(Establishment)).all()
    provinces = {e.commune.province_code for e in establishments}
    assert len(provinces) >= 2
    stays = count(Stay)
    assert stays >= 200
    assert f"demo: {len(establishments)} establishments, {stays} stays" in result.output
    wards = {e.commune_code for e in establishments}
    officers = db.session.scalars(select(User).where(User.role == Role.OFFICER)).all()
    assert wards <= {u.commune_code for u in officers}
    for est in establishments:
        assert any(u.role == Role.CLERK for u in est.staff), est.code
    assert can_log_in(app, "letan.hoanggia", "demo1234")

    users = count(User)
    again = flask("demo", "load")
    assert again.exit_code == 0, again.output
    assert "already loaded" in again.output
    assert (count(Establishment), count(Stay), count(User)) == (len(establishments), stays, users)
