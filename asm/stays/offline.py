"""The desk as an installable web app that works offline (issue 15 point 3; docs/OFFLINE.md).

A desk tablet installs `/co-so/<code>/` (manifest + service worker at `/co-so/<code>/sw.js`, scope the
establishment's pages). While the server answers, the desk's pages are the usual ones. When it does not, the
service worker opens the offline desk (`/co-so/<code>/ngoai-tuyen`, a page with no personal data in it) instead of
the in-house list or the check-in page: it checks in a guest from a scanned or pasted card (read on the device,
asm/static/idcard) and checks out the guests the device knows, into the sealed queue (asm/static/offline/queue.js),
which it sends here, in order, when the server answers.

`POST /co-so/<code>/ngoai-tuyen/nop` is the desk's filing endpoint for queued filings: idempotent per clerk
(`desk:<establishment>:<user>` scope, asm/api/idempotency.py), through the same stay services as every channel.
Conflicts: what the server holds wins (docs/OFFLINE.md "Conflicts"): a check-out of a stay that is no longer in
house, or a check-in of a guest already in house here, files nothing and answers 409 `conflict`, which the device
shows to the clerk.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from asm import clock, offline
from asm.api.idempotency import HEADER, idempotent
from asm.common import Actor, ValidationError
from asm.establishments.models import Establishment, EstablishmentType, Room
from asm.extensions import db
from asm.idcard import CardError
from asm.people import documents
from asm.people.models import mask
from asm.people.services import PersonInput
from asm.stays import queries, services
from asm.stays.models import Source, Stay, StayStatus
from asm.stays.views import REASONS, establishment_for
from asm.trades import trade_words
from asm.web.access import STAFF, roles
from asm.web.i18n import current_locale, request_translations

bp = Blueprint("desk_offline", __name__, url_prefix="/co-so/<code>")

WAITED_HEADER = "X-Waited-Offline"  # as the kiosk's (kiosk/views.py): the device kept it while the server was away
MAX_NIGHTS = 29


def seal_label(est: Establishment) -> str:
    """Whose key opens what this clerk's device sealed for this establishment (asm/offline.py)."""
    return f"desk:{est.id}:{current_user.id}"


def scope() -> str:
    """Idempotency keys are the clerk's own, per establishment (asm/api/idempotency.py)."""
    code = (request.view_args or {}).get("code", "")
    return f"desk:{establishment_for(code, write=True).id}:{current_user.id}"


def error(status: int, code: str, message: str, **extra: Any) -> tuple[dict[str, Any], int]:
    return {"error": {"code": code, "message": message, **extra}}, status


# --- the installable app ------------------------------------------------------------------------------------


def desk_establishment(code: str) -> Establishment:
    """The establishment of an offline desk page: its staff's, and a lodging's (a hospital admits on its own pages,
    asm/hospital, which are not installable): 404 for a hospital."""
    est = establishment_for(code, write=True)
    if est.type == EstablishmentType.HOSPITAL:
        abort(404)
    return est


@bp.route("/ung-dung.webmanifest")
@roles(*STAFF)
def manifest(code: str) -> Response:
    est = desk_establishment(code)
    base = url_for("stays.in_house", code=est.code)
    body = {
        "name": f"ASM · {est.name}",
        "short_name": "ASM",
        "lang": "vi",
        "start_url": base,
        "scope": base,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1e3a8a",
        "icons": [{"src": url_for("static", filename="offline/icon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    return current_app.response_class(current_app.json.dumps(body), mimetype="application/manifest+json")


@bp.route("/sw.js")
@roles(*STAFF)
def service_worker(code: str) -> Response:
    """The desk's service worker, served under the establishment's path so that its scope covers its pages."""
    desk_establishment(code)
    response = Response(_worker_source(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-store"  # a new version reaches tablets at their next visit
    return response


@functools.cache
def _worker_source() -> bytes:
    return (Path(__file__).parent.parent / "static" / "offline" / "desk-sw.js").read_bytes()


@bp.route("/ngoai-tuyen")
@roles(*STAFF)
def desk(code: str) -> str:
    """The offline desk: no personal data in the page (the service worker keeps a copy of it). Hotels and
    guesthouses: a hospital's admissions have their own pages (asm/hospital)."""
    est = desk_establishment(code)
    rooms = db.session.scalars(
        select(Room).where(Room.establishment_id == est.id, Room.active.is_(True)).order_by(Room.name)
    ).all()
    return render_template(
        "stays/offline.html", est=est, rooms=rooms, reasons=REASONS, config=desk_config(est), offline_shell=True
    )


def desk_config(est: Establishment) -> dict[str, Any]:
    config = current_app.config
    return {
        "establishment": est.code,
        "user": current_user.id,
        "locale": current_locale(),
        "sealKey": offline.public_jwk(seal_label(est)),
        "offlineWarnMinutes": config["OFFLINE_WARN_MINUTES"],
        "deadlineRule": {"evening": config["NOTIFY_EVENING_CUTOFF"], "morning": config["NOTIFY_MORNING_DEADLINE"]},
        "urls": {
            "data": url_for("desk_offline.data", code=est.code),
            "submit": url_for("desk_offline.submit", code=est.code),
            "worker": url_for("desk_offline.service_worker", code=est.code),
            "scope": url_for("stays.in_house", code=est.code),
            "queue": url_for("static", filename="offline/queue.js"),
            "cccd": url_for("static", filename="idcard/cccd.js"),
        },
        "texts": desk_texts(est),
    }


def desk_texts(est: Establishment) -> dict[str, str]:
    words = trade_words(est.type, request_translations())
    return {
        "waiting": _("Đang chờ gửi: %(n)s lượt, hạn sớm nhất %(t)s."),
        "waiting_plain": _("Đang chờ gửi: %(n)s lượt."),
        "offline": _("Mất kết nối máy chủ: khai báo được lưu (mã hoá) trên máy này và tự gửi khi có mạng."),
        "offline_long": _(
            "CẢNH BÁO: máy đã mất kết nối máy chủ %(m)s phút. Hạn khai báo vẫn tính: hãy kiểm tra mạng "
            "hoặc khai báo tại quầy."
        ),
        "queued_in": _("Đã lưu để gửi: nhận phòng %(name)s."),
        "conflict_already_checked_out": _(
            "Xung đột: khách %(who)s đã trả phòng trên máy chủ (lúc %(t)s). Theo máy chủ: lần trả phòng trên máy "
            "này không được ghi."
        ),
        "conflict_not_in_house": _(
            "Xung đột: lưu trú %(who)s không còn trên máy chủ. Lần trả phòng này không được ghi."
        ),
        "conflict_already_in_house": _(
            "Xung đột: khách đã được nhận phòng ở nơi khác trong lúc mất kết nối. Theo máy chủ: lần nhận phòng "
            "trên máy này không được ghi."
        ),
        "rejected": _("Máy chủ từ chối một khai báo (%(code)s): hãy khai báo lại tại quầy."),
        "no_room": _("Chưa xếp phòng"),
        "check_out": words.check_out,
        "pending_out": _("Đang chờ gửi trả phòng"),
        "pending_in": _("Đang chờ gửi nhận phòng"),
        "no_parser": _("Không tải được bộ đọc thẻ trên máy."),
    }


@bp.route("/ngoai-tuyen/du-lieu")
@roles(*STAFF)
def data(code: str) -> dict[str, Any]:
    """What the device refreshes while the server answers: the clock, a fresh CSRF token, and the guests in house
    (their names only for the screen; the device stores the room, the masked number and the arrival)."""
    est = establishment_for(code, write=True)
    now = clock.utcnow()
    stays = queries.in_house(est, "")
    return {
        "now_ms": int(now.timestamp() * 1000),
        "csrf": generate_csrf(),
        "inHouse": [
            {
                "stay": s.id,
                "name": s.person.full_name,
                "masked": mask(s.person.doc_number),
                "room": s.room.name if s.room else "",
                "arrivedMs": int(s.arrived_at.timestamp() * 1000),
            }
            for s in stays
            if s.status == StayStatus.IN_HOUSE
        ],
    }


# --- filing what waited -------------------------------------------------------------------------------------


def read_body(est: Establishment) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not offline.is_envelope(body):
        abort(400, description="A sealed filing is expected")
    try:
        opened = offline.open_envelope(seal_label(est), body, request.headers.get(HEADER, "").strip())
    except offline.SealError:
        abort(400, description="The sealed filing does not open with this clerk's key")
    if not isinstance(opened, dict):
        abort(400, description="A JSON object is expected")
    return opened


def moment(body: dict[str, Any], name: str, now: datetime, errors: ValidationError) -> datetime:
    """The device's clock at the scan or tap, corrected by the offset it measured against the server."""
    value, offset = body.get(name), body.get("clock_offset_ms", 0)
    if isinstance(value, bool) or not isinstance(value, int) or isinstance(offset, bool) or not isinstance(offset, int):
        errors.add(name, _("Giờ quét không hợp lệ."), "scan_time_invalid")
        return now
    try:
        return datetime.fromtimestamp((value + offset) / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        errors.add(name, _("Giờ quét không hợp lệ."), "scan_time_invalid")
        return now


@bp.route("/ngoai-tuyen/nop", methods=["POST"])
@roles(*STAFF)
@idempotent(scope)
def submit(code: str) -> tuple[dict[str, Any], int]:
    """File a check-in or a check-out the device kept while the server was away (sealed; opened here)."""
    est = establishment_for(code, write=True)
    body = read_body(est)
    now = clock.utcnow()
    waited = request.headers.get(WAITED_HEADER) == "1"
    actor = Actor(label=current_user.full_name, user_id=current_user.id)
    errors = ValidationError()
    kind = body.get("kind")
    try:
        if kind == "check_out":
            return check_out(est, body, now=now, actor=actor, waited=waited, errors=errors)
        if kind != "check_in":
            return error(400, "bad_request", "'kind' is check_in or check_out")
        raw = body.get("guests")
        if not isinstance(raw, list) or not raw or not all(isinstance(g, dict) for g in raw):
            errors.add("guests", _("Cần ít nhất một người."), "guests_missing")
            raw = []
        guests: list[PersonInput] = []
        for i, guest in enumerate(raw[: services.MAX_GROUP + 1]):
            try:
                guests.append(PersonInput.from_document(documents.read_text(str(guest.get("qr", "")))))
            except CardError as exc:
                errors.add(f"guests.{i}.qr", exc.message(current_locale()), exc.code)
        arrived = moment(body, "scanned_at_ms", now, errors)
        nights = body.get("nights")
        departure = None
        if isinstance(nights, int) and not isinstance(nights, bool) and 1 <= nights <= MAX_NIGHTS:
            departure = clock.to_local(arrived).date() + timedelta(days=nights)
        room_id = body.get("room_id")
        reason = body.get("reason")
        if errors:
            raise errors
        data = services.CheckInInput(
            guests=guests,
            arrived_at=arrived,
            reason=reason if isinstance(reason, str) else "",
            room_id=room_id if isinstance(room_id, int) and not isinstance(room_id, bool) else None,
            expected_departure=departure,
            file_now=True,
            waited_offline=waited,
        )
        result = services.check_in(est, data, actor=actor, now=now, source=Source.DESK)
    except ValidationError as exc:
        if "already_in_house" in exc.codes.values():
            return conflict("already_in_house", {})
        first = next(iter(exc.errors.values()))[0]
        return error(422, "validation_error", first, fields=exc.errors, codes=exc.codes)
    except IntegrityError:
        db.session.rollback()
        return conflict("already_in_house", {})
    head = result.stays[0]
    return {
        "result": {
            "kind": "check_in",
            "stay": head.id,
            "receipt_no": head.receipt_no,
            "arrived_at": head.arrived_at.isoformat(),
            "deadline_at": head.deadline_at.isoformat(),
            "late_reason": head.filed_late_reason,
        }
    }, 201


def conflict(what: str, note: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The server's state wins; nothing is filed. The device shows `what` to the clerk with `note`."""
    return error(409, "conflict", _("Xung đột với dữ liệu trên máy chủ."), conflict=what, note=note)


def check_out(
    est: Establishment, body: dict[str, Any], *, now: datetime, actor: Actor, waited: bool, errors: ValidationError
) -> tuple[dict[str, Any], int]:
    stay_id = body.get("stay")
    if isinstance(stay_id, bool) or not isinstance(stay_id, int) or not 0 < stay_id < 2**31:
        return error(400, "bad_request", "'stay' (an id) is required")
    at = moment(body, "at_ms", now, errors)
    if errors:
        raise errors
    stay = db.session.scalar(select(Stay).where(Stay.id == stay_id, Stay.establishment_id == est.id))
    if stay is None or stay.status == StayStatus.CANCELLED:
        return conflict("not_in_house", {})
    if stay.status == StayStatus.CHECKED_OUT:
        departed = stay.departed_at
        return conflict("already_checked_out", {"at": int(departed.timestamp() * 1000) if departed else None})
    event = services.check_out(stay, at=min(at, now), actor=actor, now=now, waited_offline=waited)
    return {"result": {"kind": "check_out", "stay": stay.id, "receipt_no": event.receipt_no}}, 201
