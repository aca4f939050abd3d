"""Joining from a browser (issue 16), through the pages as a browser sends them (the Flask test client): an
establishment registers with its owner's CCCD QR, the commune police decide, the owner runs their staff and rooms,
a forgotten password is reset by e-mail, and the platform admin works in the browser. The refusal of filing for an
establishment not approved is tested on every channel in test_refusal.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from asm.accounts.models import AccessLog, ApiToken, Invitation, PasswordReset, Role, User, UserSession
from asm.clock import utcnow
from asm.establishments.models import Establishment, EstablishmentDecision, Room, Status
from asm.extensions import db
from tests.conftest import CARD, PASSWORD, Factory, csrf_token
from tests.support.desk import CARD_2, client_as, new_client, use_fast_password_hashes
from tests.support.mail import Sink

WARD_A, WARD_O = "00004", "00070"  # Phường Ba Đình and Phường Hoàn Kiếm, Hà Nội (01)
NEW_PASSWORD = "nhà-nghỉ-hoa-sen-2026"
LINK = re.compile(r'id="invite-link" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_password_hashes(monkeypatch)


def registration(**changes: str) -> dict[str, str]:
    return {
        "name": "Nhà nghỉ Hoa Sen",
        "type": "guesthouse",
        "address": "12 Phố Đội Cấn",
        "province": "01",
        "commune_code": WARD_A,
        "licence_no": "01A-8012345",
        "phone": "0912 345 678",
        "email": "hoasen@example.vn",
        "capacity": "8",
        "owner_qr": CARD,
        "username": "hoasen",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        **changes,
    }


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client)})


def register(app: Flask, **changes: str) -> Any:
    return post(new_client(app), "/dang-ky", registration(**changes))


def registered(code_of: str = "hoasen") -> Establishment:
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.username == code_of))
    assert user is not None
    return user.establishments[0]


def login(app: Flask, username: str, password: str = NEW_PASSWORD) -> FlaskClient:
    client = new_client(app)
    response = post(client, "/dang-nhap", {"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


# --- registering ----------------------------------------------------------------------------------------------


def test_the_login_page_links_to_registration_and_to_a_forgotten_password(client: FlaskClient) -> None:
    page = client.get("/dang-nhap").get_data(as_text=True)
    assert 'href="/dang-ky"' in page and 'href="/quen-mat-khau"' in page
    form = client.get("/dang-ky")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"


def test_communes_are_picked_from_the_province_with_a_search(client: FlaskClient) -> None:
    response = client.get("/dang-ky/xa-phuong?province=01&commune_q=ba dinh")
    options = re.findall(r'<option value="(\d{5})"', response.get_data(as_text=True))
    assert WARD_A in options and WARD_O not in options
    everything = client.get("/dang-ky/xa-phuong?province=01").get_data(as_text=True)
    assert len(re.findall(r'<option value="\d{5}"', everything)) > 50


def test_the_owners_qr_is_read_by_the_desks_reader(client: FlaskClient) -> None:
    shown = post(client, "/dang-ky/quet", {"owner_qr": CARD + "\r\n"})
    assert shown.status_code == 200 and "Nguyễn Thị Hoa" in shown.get_data(as_text=True)
    bad = post(client, "/dang-ky/quet", {"owner_qr": "034303011829|Nguyễn Thị Hoa"})
    assert bad.status_code == 422 and 'role="alert"' in bad.get_data(as_text=True)


def test_a_registration_is_pending_and_files_nothing_until_approved(app: Flask) -> None:
    response = register(app)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    est = registered()
    assert est.status == Status.PENDING and est.code.startswith("01-")
    assert (est.licence_no, est.phone, est.email, est.capacity) == (
        "01A-8012345",
        "0912 345 678",
        "hoasen@example.vn",
        8,
    )
    owner = est.staff[0]
    assert (owner.role, owner.full_name, owner.id_number) == (Role.OWNER, "Nguyễn Thị Hoa", "034303011829")
    assert [d.action for d in db.session.scalars(select(EstablishmentDecision))] == ["registered"]
    client = login(app, "hoasen")
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/dang-ky/ho-so")
    page = client.get("/dang-ky/ho-so").get_data(as_text=True)
    assert "Chờ Công an duyệt" in page
    refused = post(client, f"/co-so/{est.code}/nhan-phong", {"reason": "Du lịch", "arrived_at": "2026-12-04T10:00"})
    assert refused.status_code == 422
    assert "chờ Công an xã/phường duyệt" in refused.get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"owner_qr": "not a card"}, "owner_qr", None),
        ({"password": "short", "confirm": "short"}, "password", "ít nhất 10"),
        ({"confirm": "something-else-2026"}, "confirm", "không khớp"),
        ({"commune_code": "99999"}, "commune_code", "không có trong danh mục"),
        ({"email": "no-at-sign"}, "email", "e-mail"),
        ({"capacity": "0"}, "capacity", "từ 1"),
        ({"licence_no": ""}, "licence_no", "giấy phép"),
        ({"name": "Nhà\u202enghỉ"}, "name", None),
    ],
)
def test_bad_fields_are_refused_with_the_fields_message_and_nothing_stored(
    app: Flask, changes: dict[str, str], field: str, message: str | None
) -> None:
    response = register(app, **changes)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'id="{field}-error"' in body or f'href="#{field}"' in body
    if message:
        assert message in body
    assert db.session.scalar(select(func.count(Establishment.id))) == 0
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_a_duplicate_licence_and_an_owner_already_registered_are_caught(app: Flask) -> None:
    assert register(app).status_code == 303
    again = register(app, username="hoasen2", owner_qr=CARD_2, licence_no="01a 8012345")
    assert again.status_code == 422
    assert "Số giấy phép này đã được một cơ sở khác đăng ký" in again.get_data(as_text=True)
    owner_again = register(app, username="hoasen3", licence_no="01A-999")
    assert owner_again.status_code == 422
    assert "đã có tài khoản" in owner_again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Establishment.id))) == 1


# --- the police decide --------------------------------------------------------------------------------------


def test_the_communes_officer_approves_and_an_officer_of_another_commune_never_sees_it(
    app: Flask, factory: Factory
) -> None:
    register(app)
    est = registered()
    officer = client_as(app, factory.user(Role.OFFICER, commune=WARD_A))
    other = client_as(app, factory.user(Role.OFFICER, commune=WARD_O))
    assert "1 cơ sở đăng ký đang chờ duyệt" in officer.get("/cong-an/").get_data(as_text=True)
    assert est.name in officer.get("/cong-an/dang-ky/").get_data(as_text=True)
    detail = officer.get(f"/cong-an/dang-ky/{est.code}").get_data(as_text=True)
    assert "034303011829" in detail and "Nguyễn Thị Hoa" in detail
    assert est.name not in other.get("/cong-an/dang-ky/").get_data(as_text=True)
    assert est.name not in other.get("/co-so/").get_data(as_text=True)
    assert "chờ duyệt" not in other.get("/cong-an/").get_data(as_text=True)
    assert other.get(f"/cong-an/dang-ky/{est.code}").status_code == 404
    assert post(other, f"/cong-an/dang-ky/{est.code}/quyet-dinh", {"action": "approve"}).status_code == 404
    supervisor = client_as(app, factory.user(Role.SUPERVISOR, province="01"))
    assert supervisor.get(f"/cong-an/dang-ky/{est.code}").status_code == 200
    assert post(supervisor, f"/cong-an/dang-ky/{est.code}/quyet-dinh", {"action": "approve"}).status_code == 403

    assert post(officer, f"/cong-an/dang-ky/{est.code}/quyet-dinh", {"action": "approve"}).status_code == 303
    assert registered().status == Status.APPROVED
    owner = login(app, "hoasen")
    assert owner.get("/").headers["Location"].endswith(f"/co-so/{est.code}/")
    lines = db.session.scalars(select(AccessLog.action).where(AccessLog.target == est.code)).all()
    assert "registration" in lines and "establishment_decision" in lines


def test_changes_asked_with_a_reason_are_shown_to_the_owner_who_sends_the_registration_again(
    app: Flask, factory: Factory
) -> None:
    register(app)
    est = registered()
    officer = client_as(app, factory.user(Role.OFFICER, commune=WARD_A))
    url = f"/cong-an/dang-ky/{est.code}/quyet-dinh"
    no_reason = post(officer, url, {"action": "ask_changes"})
    assert no_reason.status_code == 422 and "Cần nêu lý do" in no_reason.get_data(as_text=True)
    assert post(officer, url, {"action": "ask_changes", "reason": "Thiếu số nhà trên địa chỉ"}).status_code == 303
    owner = login(app, "hoasen")
    page = owner.get("/dang-ky/ho-so").get_data(as_text=True)
    assert "Cần bổ sung" in page and "Thiếu số nhà trên địa chỉ" in page
    fields = {"name": est.name, "address": "Số 12 ngõ 5 Phố Đội Cấn", "licence_no": "01A-8012345"}
    fields |= {"phone": "0912345678", "email": "hoasen@example.vn", "capacity": "8"}
    assert post(owner, f"/dang-ky/ho-so/{est.code}/gui-lai", fields).status_code == 303
    est = registered()
    assert est.status == Status.PENDING and est.address == "Số 12 ngõ 5 Phố Đội Cấn"
    assert [d.action for d in db.session.scalars(select(EstablishmentDecision).order_by(EstablishmentDecision.id))] == [
        "registered",
        "ask_changes",
        "resubmitted",
    ]


def test_reject_suspend_reopen_and_the_history_is_append_only(app: Flask, factory: Factory) -> None:
    register(app)
    est = registered()
    officer = client_as(app, factory.user(Role.OFFICER, commune=WARD_A))
    url = f"/cong-an/dang-ky/{est.code}/quyet-dinh"
    assert post(officer, url, {"action": "reopen"}).status_code == 422  # not from pending
    assert post(officer, url, {"action": "approve"}).status_code == 303
    assert post(officer, url, {"action": "suspend", "reason": "Đóng cửa sửa chữa"}).status_code == 303
    owner = login(app, "hoasen")
    assert "Đóng cửa sửa chữa" in owner.get("/dang-ky/ho-so").get_data(as_text=True)
    assert post(officer, url, {"action": "reopen"}).status_code == 303
    assert registered().status == Status.APPROVED
    history = officer.get(f"/cong-an/dang-ky/{est.code}").get_data(as_text=True)
    assert history.index("Tạm dừng") < history.index("Mở lại")
    row = db.session.scalars(select(EstablishmentDecision)).first()
    assert row is not None
    row.reason = "changed"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_a_second_registration_at_the_same_address_is_shown_beside_it(app: Flask, factory: Factory) -> None:
    existing = factory.establishment(commune=WARD_A, address="12 Phố Đội Cấn", name="Khách sạn Cũ")
    register(app)
    officer = client_as(app, factory.user(Role.OFFICER, commune=WARD_A))
    page = officer.get(f"/cong-an/dang-ky/{registered().code}").get_data(as_text=True)
    section = page[page.index('id="look-alikes"') :]
    assert existing.name in section[: section.index("</ul>")]


# --- owners run their establishment -------------------------------------------------------------------------


def approved_owner(app: Flask, factory: Factory) -> tuple[Establishment, FlaskClient]:
    register(app)
    est = registered()
    officer = client_as(app, factory.user(Role.OFFICER, commune=WARD_A))
    assert post(officer, f"/cong-an/dang-ky/{est.code}/quyet-dinh", {"action": "approve"}).status_code == 303
    return est, login(app, "hoasen")


def invite(owner: FlaskClient, code: str, **data: str) -> str:
    page = post(owner, f"/co-so/{code}/nhan-vien/moi", {"role": "clerk", "note": "Lễ tân ca tối", **data})
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    match = LINK.search(page.get_data(as_text=True))
    assert match
    return match.group(1)


def accept(app: Flask, link: str, username: str = "letan.hoasen") -> Any:
    client = new_client(app)
    form = {
        "full_name": "Lê Văn Tân",
        "username": username,
        "password": "ca-toi-le-tan-9",
        "confirm": "ca-toi-le-tan-9",
    }
    return post(client, link.replace("http://asm.test", ""), form)


def test_an_invited_clerk_sets_their_own_password_and_the_link_works_once(app: Flask, factory: Factory) -> None:
    est, owner = approved_owner(app, factory)
    link = invite(owner, est.code)
    token = link.rsplit("/", 1)[-1]
    stored = db.session.scalars(select(Invitation)).one()
    assert token not in stored.token_hash and len(stored.token_hash) == 64
    assert accept(app, link).status_code == 303
    clerk = db.session.scalar(select(User).where(User.username == "letan.hoasen"))
    assert clerk is not None and clerk.role == Role.CLERK and clerk.establishments == [registered()]
    assert accept(app, link, "someone.else").status_code == 404
    assert new_client(app).get(link.replace("http://asm.test", "")).status_code == 404
    login(app, "letan.hoasen", "ca-toi-le-tan-9")
    page = owner.get(f"/co-so/{est.code}/nhan-vien/").get_data(as_text=True)
    assert "Lê Văn Tân" in page and "Nhận lời mời" in page  # who did what


def test_an_expired_or_revoked_invitation_opens_nothing(app: Flask, factory: Factory) -> None:
    est, owner = approved_owner(app, factory)
    link = invite(owner, est.code)
    invitation = db.session.scalars(select(Invitation)).one()
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert accept(app, link).status_code == 404
    second = invite(owner, est.code)
    second_row = db.session.scalars(select(Invitation).order_by(Invitation.id.desc())).first()
    assert second_row is not None
    assert post(owner, f"/co-so/{est.code}/nhan-vien/moi/{second_row.id}/huy").status_code == 303
    assert accept(app, second).status_code == 404


def test_an_invitation_with_an_address_is_e_mailed(app: Flask, factory: Factory, smtp_sink: Sink) -> None:
    est, owner = approved_owner(app, factory)
    link = invite(owner, est.code, email="tan@example.vn")
    [message] = smtp_sink.to("tan@example.vn")
    assert link in Sink.text(message)


def test_removing_a_staff_member_ends_their_sessions_at_once(app: Flask, factory: Factory) -> None:
    est, owner = approved_owner(app, factory)
    assert accept(app, invite(owner, est.code)).status_code == 303
    clerk_client = login(app, "letan.hoasen", "ca-toi-le-tan-9")
    assert clerk_client.get(f"/co-so/{est.code}/").status_code == 200
    clerk = db.session.scalar(select(User).where(User.username == "letan.hoasen"))
    assert clerk is not None
    assert post(owner, f"/co-so/{est.code}/nhan-vien/{clerk.id}/vai-tro", {"role": "owner"}).status_code == 303
    assert clerk_client.get(f"/co-so/{est.code}/").status_code == 302  # the role change ended the login
    clerk_client = login(app, "letan.hoasen", "ca-toi-le-tan-9")
    assert post(owner, f"/co-so/{est.code}/nhan-vien/{clerk.id}/xoa").status_code == 303
    assert clerk_client.get(f"/co-so/{est.code}/").status_code == 302
    db.session.expire_all()
    assert not clerk.active and clerk.establishments == []
    assert (
        db.session.scalar(
            select(func.count(UserSession.id)).where(UserSession.user_id == clerk.id, UserSession.ended_at.is_(None))
        )
        == 0
    )
    # An owner cannot remove themselves, nor a stranger to the establishment.
    me = db.session.scalar(select(User).where(User.username == "hoasen"))
    assert me is not None
    assert post(owner, f"/co-so/{est.code}/nhan-vien/{me.id}/xoa").status_code == 422
    stranger = factory.user(Role.CLERK, establishment=factory.establishment())
    assert post(owner, f"/co-so/{est.code}/nhan-vien/{stranger.id}/xoa").status_code == 404


def test_owners_add_rename_and_take_rooms_out_of_service(app: Flask, factory: Factory) -> None:
    est, owner = approved_owner(app, factory)
    assert post(owner, f"/co-so/{est.code}/phong-buong/them", {"names": "101 102 201"}).status_code == 303
    room = db.session.scalar(select(Room).where(Room.establishment_id == est.id, Room.name == "102"))
    assert room is not None
    url = f"/co-so/{est.code}/phong-buong/{room.id}"
    assert post(owner, url, {"name": "102A", "active": "1"}).status_code == 303
    assert post(owner, url, {"name": "101", "active": "1"}).status_code == 422  # taken
    assert post(owner, url, {"name": "102A"}).status_code == 303  # out of service
    db.session.expire_all()
    assert (room.name, room.active) == ("102A", False)
    form = owner.get(f"/co-so/{est.code}/nhan-phong").get_data(as_text=True)
    assert f'value="{room.id}"' not in form


# --- password reset ---------------------------------------------------------------------------------------


def test_a_password_is_reset_by_a_one_time_e_mailed_link(app: Flask, factory: Factory, smtp_sink: Sink) -> None:
    register(app)
    old_login = login(app, "hoasen")
    unknown = post(new_client(app), "/quen-mat-khau", {"email": "nobody@example.vn"})
    known = post(new_client(app), "/quen-mat-khau", {"email": "HoaSen@example.vn"})
    assert unknown.status_code == known.status_code == 200
    assert unknown.get_data(as_text=True).replace(csrf_token(new_client(app)), "") is not None
    assert 'id="reset-sent"' in unknown.get_data(as_text=True) and 'id="reset-sent"' in known.get_data(as_text=True)
    assert smtp_sink.to("nobody@example.vn") == []
    [message] = smtp_sink.to("hoasen@example.vn")
    link = re.search(r"http://asm\.test(/dat-lai-mat-khau/\S+)", Sink.text(message))
    assert link
    stored = db.session.scalars(select(PasswordReset)).one()
    assert link.group(1).rsplit("/", 1)[-1] not in stored.token_hash
    client = new_client(app)
    weak = post(client, link.group(1), {"password": "123", "confirm": "123"})
    assert weak.status_code == 422
    assert (
        post(client, link.group(1), {"password": "mat-khau-moi-2026", "confirm": "mat-khau-moi-2026"}).status_code
        == 303
    )
    assert post(client, link.group(1), {"password": "lan-nua-2026-x", "confirm": "lan-nua-2026-x"}).status_code == 404
    assert old_login.get("/dang-ky/ho-so").status_code == 302  # every login ended
    login(app, "hoasen", "mat-khau-moi-2026")


def test_reset_mails_to_one_address_are_rate_limited(app: Flask, smtp_sink: Sink) -> None:
    register(app)
    for _ in range(5):
        assert post(new_client(app), "/quen-mat-khau", {"email": "hoasen@example.vn"}).status_code == 200
    assert len(smtp_sink.to("hoasen@example.vn")) == 3  # RATELIMIT_RESET_PER_ADDRESS
    client = new_client(app)
    codes = [post(client, "/quen-mat-khau", {"email": f"x{i}@example.vn"}).status_code for i in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429  # RATELIMIT_RESET per client


# --- the platform admin ---------------------------------------------------------------------------------------


def test_the_admin_finds_establishments_makes_tokens_and_police_accounts_and_each_action_is_logged(
    app: Flask, factory: Factory
) -> None:
    register(app)
    est = registered()
    other = factory.establishment(name="Khách sạn Sông Hồng", commune=WARD_O)
    admin_user = factory.user(Role.ADMIN)
    admin = client_as(app, admin_user)
    found = admin.get("/quan-tri/co-so/?q=hoa sen").get_data(as_text=True)
    assert est.name in found and other.name not in found
    pending = admin.get("/quan-tri/co-so/?trang_thai=pending").get_data(as_text=True)
    assert est.name in pending and other.name not in pending
    assert admin.get(f"/quan-tri/co-so/{est.code}").status_code == 200
    made = post(admin, f"/quan-tri/co-so/{other.code}/ma-api", {"name": "PMS"})
    secret = re.search(r'id="token-secret" value="([^"]+)"', made.get_data(as_text=True))
    assert secret and secret.group(1).startswith("asm_")
    token = db.session.scalars(select(ApiToken)).one()
    assert (
        new_client(app).get("/api/v1/stays", headers={"Authorization": f"Bearer {secret.group(1)}"}).status_code == 200
    )
    assert "PMS" in admin.get("/quan-tri/ma-api/").get_data(as_text=True)
    assert post(admin, f"/quan-tri/ma-api/{token.id}/thu-hoi", {"back": "list"}).status_code == 303
    assert (
        new_client(app).get("/api/v1/stays", headers={"Authorization": f"Bearer {secret.group(1)}"}).status_code == 401
    )
    created = post(
        admin,
        "/quan-tri/cong-an/tao",
        {
            "role": "officer",
            "full_name": "Đỗ Văn Cảnh",
            "username": "ca.badinh2",
            "commune": WARD_A,
            "password": PASSWORD + "x",
        },
    )
    assert created.status_code == 303, created.get_data(as_text=True)[:400]
    units = admin.get("/quan-tri/cong-an/?tinh=01").get_data(as_text=True)
    assert "Đỗ Văn Cảnh" in units and "Ba Đình" in units
    bad = post(
        admin,
        "/quan-tri/cong-an/tao",
        {"role": "officer", "username": "ca.x", "full_name": "X", "commune": "99999", "password": PASSWORD + "x"},
    )
    assert bad.status_code == 422
    actions = set(db.session.scalars(select(AccessLog.action).where(AccessLog.user_id == admin_user.id)))
    assert {"admin_establishment", "admin_token_created", "admin_token_revoked", "admin_user_created"} <= actions
    for who in (factory.user(Role.OFFICER, commune=WARD_A), factory.user(Role.OWNER, establishment=other)):
        assert client_as(app, who).get("/quan-tri/co-so/").status_code == 403


def test_the_cli_still_creates_approved_establishments(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["establishments", "create", "--code", "HN-CLI", "--name", "Khách sạn CLI", "--type", "hotel",
              "--address", "1 Tràng Tiền", "--commune", WARD_O, "--rooms", "101,102"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    est = db.session.scalar(select(Establishment).where(Establishment.code == "HN-CLI"))
    assert est is not None and est.status == Status.APPROVED and est.can_file


def test_the_cli_decides_through_the_same_service(app: Flask) -> None:
    register(app)
    code = registered().code
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["establishments", "decide", code, "suspend"])
    assert refused.exit_code != 0
    assert runner.invoke(args=["establishments", "decide", code, "approve"]).exit_code == 0
    result = runner.invoke(args=["establishments", "decide", code, "suspend", "--reason", "Sửa chữa"])
    assert result.exit_code == 0 and result.output.strip() == f"{code}: suspended"
    assert registered().status_reason == "Sửa chữa"
