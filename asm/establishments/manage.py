"""Owners run their establishment (issue 16): staff (invite by a one-time link, clerk or owner role, remove: their
logins end at once), who did what, and rooms (add, rename, take out of service); a hospital's wards with their
rooms and beds through asm/hospital/services. Owners of the establishment only.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from asm.accounts import joining
from asm.accounts.models import AccessLog, Invitation, Role, User
from asm.clock import utcnow
from asm.common import ValidationError, free_text
from asm.establishments.models import Establishment, EstablishmentType, Room
from asm.establishments.services import ROOM_NAME_MAX, add_rooms
from asm.extensions import db
from asm.hospital import services as hospital_services
from asm.hospital.models import BED_KIND_LABELS, BedKind, Ward
from asm.stays.models import Stay, StayEvent
from asm.web.access import log_account_event, owned_establishment, roles

bp = Blueprint("manage", __name__, url_prefix="/co-so/<code>")
ACTIVITY = 50
STAFF_ACTIONS = ("staff_invited", "invitation_accepted", "invitation_revoked", "staff_removed", "staff_role")


def _staff_member(est: Establishment, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not any(e.id == est.id for e in user.establishments):
        abort(404)
    return user


# --- staff --------------------------------------------------------------------------------------------------


def _staff_page(est: Establishment, *, link: str | None = None, errors: dict[str, list[str]] | None = None) -> Response:
    now = utcnow()
    activity = db.session.execute(
        select(StayEvent.at, StayEvent.actor, StayEvent.kind, StayEvent.data)
        .join(Stay, Stay.id == StayEvent.stay_id)
        .where(Stay.establishment_id == est.id)
        .order_by(StayEvent.id.desc())
        .limit(ACTIVITY)
    ).all()
    staff_log = db.session.scalars(
        select(AccessLog)
        .where(AccessLog.target == est.code, AccessLog.action.in_(STAFF_ACTIONS))
        .order_by(AccessLog.id.desc())
        .limit(ACTIVITY)
    ).all()
    page = render_template(
        "manage/staff.html",
        est=est,
        staff=sorted(est.staff, key=lambda u: (u.role != Role.OWNER, u.full_name)),
        invitations=joining.open_invitations(est, now=now),
        activity=activity,
        staff_log=staff_log,
        link=link,
        errors=errors or {},
        roles=[Role.CLERK.value, Role.OWNER.value],
    )
    response = make_response(page, 422 if errors else 200)
    return response


@bp.route("/nhan-vien/")
@roles(Role.OWNER)
def staff(code: str) -> Response:
    return _staff_page(owned_establishment(code))


@bp.route("/nhan-vien/moi", methods=["POST"])
@roles(Role.OWNER)
def invite(code: str) -> Response:
    est = owned_establishment(code)
    now = utcnow()
    try:
        invitation, token = joining.invite(
            est,
            role=request.form.get("role", Role.CLERK),
            note=request.form.get("note", ""),
            email=request.form.get("email", ""),
            by=current_user,
            now=now,
            days=int(current_app.config["INVITATION_DAYS"]),
        )
    except ValidationError as exc:
        db.session.rollback()
        return _staff_page(est, errors=exc.errors)
    log_account_event("staff_invited", user_id=current_user.id, target=est.code, reason=f"{invitation.role}")
    db.session.commit()
    link = url_for("joining.accept", token=token, _external=True)
    if invitation.email:  # queued (asm/jobs): the link below is shown whatever the mail server does
        joining.send_mail(
            invitation.email,
            _("Lời mời làm việc tại %(name)s", name=est.name),
            _(
                "%(owner)s mời bạn dùng ASM tại %(name)s. Mở liên kết sau để tạo tài khoản (dùng một lần, hết "
                "hạn sau %(days)s ngày):\n\n%(link)s",
                owner=current_user.full_name,
                name=est.name,
                days=current_app.config["INVITATION_DAYS"],
                link=link,
            ),
        )
    return _staff_page(est, link=link)


@bp.route("/nhan-vien/moi/<int:invitation_id>/huy", methods=["POST"])
@roles(Role.OWNER)
def revoke_invitation(code: str, invitation_id: int) -> Response:
    est = owned_establishment(code)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.establishment_id != est.id:
        abort(404)
    joining.revoke_invitation(invitation, now=utcnow())
    log_account_event("invitation_revoked", user_id=current_user.id, target=est.code, reason=str(invitation.id))
    db.session.commit()
    flash(_("Đã hủy lời mời."), "success")
    return redirect(url_for("manage.staff", code=est.code), code=303)


@bp.route("/nhan-vien/<int:user_id>/vai-tro", methods=["POST"])
@roles(Role.OWNER)
def set_role(code: str, user_id: int) -> Response:
    est = owned_establishment(code)
    user = _staff_member(est, user_id)
    role = request.form.get("role", "")
    try:
        ended = joining.set_staff_role(est, user, role, by=current_user, now=utcnow())
    except ValidationError as exc:
        db.session.rollback()
        return _staff_page(est, errors=exc.errors)
    log_account_event(
        "staff_role", user_id=current_user.id, target=est.code, reason=f"{user.username} -> {role}; {ended} ended"
    )
    db.session.commit()
    flash(_("Đã đổi vai trò; các phiên đăng nhập của người này đã kết thúc."), "success")
    return redirect(url_for("manage.staff", code=est.code), code=303)


@bp.route("/nhan-vien/<int:user_id>/xoa", methods=["POST"])
@roles(Role.OWNER)
def remove(code: str, user_id: int) -> Response:
    est = owned_establishment(code)
    user = _staff_member(est, user_id)
    try:
        ended = joining.remove_staff(est, user, by=current_user, now=utcnow())
    except ValidationError as exc:
        db.session.rollback()
        return _staff_page(est, errors=exc.errors)
    log_account_event(
        "staff_removed", user_id=current_user.id, target=est.code, reason=f"{user.username}; {ended} ended"
    )
    db.session.commit()
    flash(_("Đã xóa nhân viên; các phiên đăng nhập của người này đã kết thúc."), "success")
    return redirect(url_for("manage.staff", code=est.code), code=303)


# --- rooms, and a hospital's wards and beds ----------------------------------------------------------------


def _rooms_page(est: Establishment, errors: dict[str, list[str]] | None = None) -> Response:
    rooms = db.session.scalars(select(Room).where(Room.establishment_id == est.id).order_by(Room.name)).all()
    wards = (
        db.session.scalars(select(Ward).where(Ward.establishment_id == est.id).order_by(Ward.code)).all()
        if est.type == EstablishmentType.HOSPITAL
        else []
    )
    page = render_template(
        "manage/rooms.html",
        est=est,
        rooms=rooms,
        wards=wards,
        kinds=[(k.value, _(BED_KIND_LABELS[k])) for k in BedKind],
        errors=errors or {},
    )
    return make_response(page, 422 if errors else 200)


@bp.route("/phong-buong/")
@roles(Role.OWNER)
def rooms(code: str) -> Response:
    return _rooms_page(owned_establishment(code))


@bp.route("/phong-buong/them", methods=["POST"])
@roles(Role.OWNER)
def add(code: str) -> Response:
    est = owned_establishment(code)
    names = [n for n in request.form.get("names", "").replace(",", " ").split() if n]
    try:
        added = add_rooms(est, names)
    except ValidationError as exc:
        db.session.rollback()
        return _rooms_page(est, exc.errors)
    db.session.commit()
    flash(_("Đã thêm %(n)s phòng.", n=len(added)), "success")
    return redirect(url_for("manage.rooms", code=est.code), code=303)


@bp.route("/phong-buong/<int:room_id>", methods=["POST"])
@roles(Role.OWNER)
def edit_room(code: str, room_id: int) -> Response:
    """Rename a room, or take it out of service (and back): a room out of service takes no new guest."""
    est = owned_establishment(code)
    room = db.session.get(Room, room_id)
    if room is None or room.establishment_id != est.id:
        abort(404)
    errors = ValidationError()
    name = free_text(errors, "name", request.form.get("name", room.name), max_length=ROOM_NAME_MAX)
    if not name and "name" not in errors.errors:
        errors.add("name", _("Cần tên phòng."), "name_missing")
    elif name != room.name and db.session.scalar(
        select(Room.id).where(Room.establishment_id == est.id, Room.name == name)
    ):
        errors.add("name", _("Tên phòng đã có."), "name_taken")
    if errors:
        db.session.rollback()
        return _rooms_page(est, errors.errors)
    room.name = name
    room.active = request.form.get("active") == "1"
    db.session.commit()
    flash(_("Đã lưu phòng %(name)s.", name=room.name), "success")
    return redirect(url_for("manage.rooms", code=est.code), code=303)


def parse_beds(text: str) -> list[tuple[str, str]]:
    """One room a line: its name, then its beds' labels ("P101 G1 G2 G3" or "P101: G1, G2")."""
    beds: list[tuple[str, str]] = []
    for line in text.splitlines():
        parts = line.replace(":", " ").replace(",", " ").split()
        if len(parts) >= 2:
            beds.extend((parts[0], label) for label in parts[1:])
    return beds


@bp.route("/phong-buong/khoa", methods=["POST"])
@roles(Role.OWNER)
def add_ward(code: str) -> Response:
    est = owned_establishment(code)
    beds = parse_beds(request.form.get("beds", "")[:20000])
    try:
        if not beds:
            raise ValidationError({"beds": [_("Mỗi dòng: tên phòng rồi tên các giường.")]}, {"beds": "beds_missing"})
        ward = hospital_services.create_ward(
            est,
            code=request.form.get("ward_code", ""),
            name=request.form.get("ward_name", ""),
            beds=beds,
            kind=request.form.get("kind", BedKind.STANDARD),
        )
    except ValidationError as exc:
        db.session.rollback()
        return _rooms_page(est, exc.errors)
    db.session.commit()
    flash(_("Đã tạo khoa %(name)s với %(n)s giường.", name=ward.name, n=len(beds)), "success")
    return redirect(url_for("manage.rooms", code=est.code), code=303)
