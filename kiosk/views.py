"""The kiosk's full-screen self check-in UI (issue 3). No models here: it calls `asm` services.

Pages: the pairing page (public, rate-limited) and the kiosk screen. JSON endpoints used by kiosk/static/kiosk.js:
the server clock, reading a scanned text, decoding an image (a camera frame or a photo), the staff PIN, and
filing (idempotent per device: the browser's queue retries with the same key until it is acknowledged).
"""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from asm import clock, offline
from asm.api.idempotency import HEADER, idempotent
from asm.common import ValidationError
from asm.devices import services
from asm.devices.auth import COOKIE, current_device, set_credential_cookie
from asm.devices.models import KioskDevice, KioskFlow, flow_labels
from asm.establishments.models import Room
from asm.extensions import db
from asm.idcard import CardData, CardError
from asm.idcard.decode import DecodeError
from asm.idcard.reader import is_mrz_text
from asm.people import documents
from asm.people.models import mask
from asm.people.services import PersonInput
from asm.ratelimit import rate_limit
from asm.trades import Words, trade_words
from asm.web.access import kiosk_device, kiosk_device_api, public
from asm.web.i18n import current_locale, request_translations
from kiosk import wedge

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk", static_folder="static", static_url_path="/static")

PAIR_LIMIT = "10 per minute"
PIN_LIMIT = "10 per minute"
FRAME_LIMIT = "600 per minute"  # a few frames a second while a guest holds up a card
READ_LIMIT = "120 per minute"
SOURCES = ("wedge", "serial", "paste")
# Sent with a filing that the device kept because the server did not answer (docs/OFFLINE.md). Outside the body,
# which may have been sealed before the first try, and outside the Idempotency-Key's fingerprint.
WAITED_HEADER = "X-Waited-Offline"
# The stored reason stays Vietnamese (it is what the police read); the button shows it in the kiosk's language.
REASON_TEXT = {
    "Du lịch": _l("Du lịch"),
    "Công tác": _l("Công tác"),
    "Thăm thân": _l("Thăm thân"),
    "Học tập": _l("Học tập"),
    "Khác": _l("Khác"),
}


def device_key() -> str:
    """Rate limits count per kiosk (its credential, hashed), or per address before pairing."""
    credential = request.cookies.get(COOKIE)
    if credential:
        return "kiosk:" + hashlib.sha256(credential.encode()).hexdigest()[:16]
    return "ip:" + (request.remote_addr or "?")


def scope() -> str:
    return f"kiosk:{current_device().id}"


def error(status: int, code: str, message: str, **extra: Any) -> tuple[dict[str, Any], int]:
    return {"error": {"code": code, "message": message, **extra}}, status


def seal_label(device: KioskDevice) -> str:
    """Whose key opens what this kiosk sealed: the device and its current pairing (asm/offline.py)."""
    return f"kiosk:{device.id}:{device.credential_hash}"


def json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if offline.is_envelope(body):  # a filing the kiosk kept sealed in IndexedDB (docs/OFFLINE.md)
        try:
            body = offline.open_envelope(seal_label(current_device()), body, request.headers.get(HEADER, "").strip())
        except offline.SealError:
            abort(400, description="The sealed filing does not open with this kiosk's key")
    if not isinstance(body, dict):
        abort(400, description="A JSON object body is expected")
    return body


# --- pairing ------------------------------------------------------------------------------------------------


@bp.route("/ghep-noi", methods=["GET", "POST"])
@public
@rate_limit(PAIR_LIMIT, methods=("POST",))
def pair() -> Response | tuple[str, int] | str:
    """Enter the one-time code the owner got; the browser keeps a device credential in an HttpOnly cookie."""
    if request.method == "GET":
        return render_template("kiosk/pair.html", error=None)
    try:
        device, credential = services.pair_device(request.form.get("code", ""), now=clock.utcnow())
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return render_template("kiosk/pair.html", error=" ".join(exc.errors.get("code", []))), 422
    response = make_response(redirect(url_for("kiosk.screen"), code=303))
    set_credential_cookie(response, credential)
    current_app.logger.info("kiosk %s paired for establishment %s", device.id, device.establishment_id)
    return response


# --- the screen ----------------------------------------------------------------------------------------------


@bp.route("/")
@kiosk_device
def screen() -> str:
    device = current_device()
    services.touch(device, now=clock.utcnow())
    db.session.commit()
    rooms = db.session.scalars(
        select(Room).where(Room.establishment_id == device.establishment_id, Room.active.is_(True)).order_by(Room.name)
    ).all()
    flows = [KioskFlow(f) for f in KioskFlow if device.offers(f)]
    words = trade_words(device.establishment.type, request_translations())
    labels = flow_labels(words)
    return render_template(
        "kiosk/screen.html",
        device=device,
        est=device.establishment,
        flows=[(f.value, labels[f]) for f in flows],
        rooms=rooms,
        reasons=[(r, str(REASON_TEXT.get(r, r))) for r in services.HOTEL_REASONS],
        config=screen_config(device),
        texts=screen_texts(words),
    )


@bp.route("/sw.js")
@kiosk_device_api
def service_worker() -> Response:
    """The kiosk's service worker, from /kiosk/ so that it may serve the screen (docs/KIOSK.md)."""
    response = Response(_service_worker_source(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-store"  # a new version reaches kiosks at their next load
    return response


@functools.cache
def _service_worker_source() -> bytes:
    return (Path(__file__).parent / "static" / "kiosk-sw.js").read_bytes()


def screen_config(device: KioskDevice) -> dict[str, Any]:
    return {
        "urls": {
            "worker": url_for("kiosk.service_worker"),
            "screen": url_for("kiosk.screen"),
            "clock": url_for("kiosk.server_clock"),
            "text": url_for("kiosk.read_text"),
            "image": url_for("kiosk.read_image"),
            "pin": url_for("kiosk.staff_pin"),
            "submit": url_for("kiosk.submit"),
            # Reading on the device (docs/OFFLINE.md): the parser, the wedge rules, the QR reader and zxing-wasm.
            "cccd": url_for("static", filename="idcard/cccd.js"),
            "wedge": url_for("kiosk.static", filename="wedge.js"),
            "scanner": url_for("static", filename="idcard/scanner.js"),
            "zxing": url_for("web.vendor", name="zxing-wasm/es/reader/index.js"),
            "zxingWasm": url_for("web.vendor", name="zxing-wasm/reader/zxing_reader.wasm"),
        },
        "device": device.id,
        "idleSeconds": device.idle_seconds,
        "guestPicksRoom": device.guest_picks_room,
        "maxNights": services.MAX_NIGHTS,
        "locale": current_locale(),
        **offline_config(device),
    }


def offline_config(device: KioskDevice) -> dict[str, Any]:
    """What the kiosk needs to work while the server is away (docs/OFFLINE.md): the public key it seals its queue
    to, its staff PIN's offline verifier, when to warn staff, and the deadline rule (for the oldest deadline)."""
    config = current_app.config
    return {
        "sealKey": offline.public_jwk(seal_label(device)),
        "offlinePin": services.offline_pin(device, now=clock.utcnow()),
        "offlineWarnMinutes": config["OFFLINE_WARN_MINUTES"],
        "deadlineRule": {"evening": config["NOTIFY_EVENING_CUTOFF"], "morning": config["NOTIFY_MORNING_DEADLINE"]},
        "queueModule": url_for("static", filename="offline/queue.js"),
    }


def screen_texts(words: Words) -> dict[str, str]:
    """What kiosk.js writes on screen, translated here (the catalogue is the server's), in the establishment's
    words."""
    return {
        "waiting": _("Đang chờ gửi: %(n)s lượt khai báo (sẽ tự gửi lại khi có mạng)."),
        "rejected": _("%(n)s lượt khai báo bị máy chủ từ chối: hãy báo lễ tân khai báo tại quầy."),
        "queued": _("Chưa gửi được vì mất kết nối. Khai báo đã được lưu trên máy này và sẽ tự gửi khi có mạng."),
        "sending": _("Đang gửi…"),
        "camera_unavailable": _("Không mở được camera. Hãy dùng đầu đọc, ảnh chụp hoặc nhập tay."),
        "camera_looking": _("Đưa mã QR, hoặc trang thông tin hộ chiếu, vào khung; giữ yên và đủ sáng."),
        "network": _("Không kết nối được máy chủ. Hãy thử lại."),
        "pin_wrong": _("Mã PIN không đúng. Còn %(n)s lần thử."),
        "pin_locked": _("Nhập sai quá nhiều lần. Mã PIN bị khoá đến %(t)s."),
        "pin_needs_network": _("Cần kết nối mạng để kiểm tra mã PIN."),
        "serial_failed": _("Không mở được cổng COM của đầu đọc."),
        "duplicate": _("Người này đã có trong danh sách."),
        "manual_incomplete": _("Hãy điền đủ số giấy tờ, họ tên và ngày sinh."),
        "room_none": _("Chưa chọn phòng"),
        "nights": _("%(n)s đêm"),
        "sex_M": _("Nam"),
        "sex_F": _("Nữ"),
        "manual": _("Nhập tay — cần nhân viên xác nhận"),
        "why_check_out": _("%(action)s cần nhân viên xác nhận.", action=words.check_out),
        "why_room": _("Nhân viên chọn phòng cho khách."),
        "why_manual": _("Thông tin nhập tay: nhân viên kiểm tra giấy tờ rồi xác nhận."),
        # What to change on a mis-set scanner, for the diagnosis made on the device (kiosk/static/wedge.js).
        **{f"wedge_{code}": str(text) for code, text in wedge.MESSAGES.items()},
        "declaration": _("Khai báo tạm trú (người nước ngoài) trước %(t)s"),
        "waiting_deadline": _("Đang chờ gửi: %(n)s lượt khai báo, hạn sớm nhất %(t)s."),
        "offline_long": _(
            "CẢNH BÁO: máy đã mất kết nối máy chủ %(m)s phút. Hạn khai báo vẫn tính: hãy kiểm tra mạng "
            "hoặc khai báo tại quầy."
        ),
        "pin_offline_expired": _("Máy mất kết nối quá lâu: không kiểm tra được mã PIN. Cần kết nối mạng."),
    }


# --- JSON endpoints -----------------------------------------------------------------------------------------


@bp.route("/api/gio")
@kiosk_device_api
def server_clock() -> dict[str, Any]:
    """The server's clock, for the kiosk to measure its own clock's offset (scan times are sent corrected), and a
    current CSRF token: a screen opened from the service worker's copy may carry the token of an ended session."""
    now = clock.utcnow()
    services.touch(current_device(), now=now)
    db.session.commit()
    return {
        "now_ms": int(now.timestamp() * 1000),
        "csrf": generate_csrf(),
        "offlinePin": services.offline_pin(current_device(), now=now),
    }


def card_view(person: PersonInput, text: str) -> dict[str, Any]:
    """What the confirmation screen shows: no address, the document number masked but its last digits; a foreign
    national's nationality (the stay will carry the foreigners' declaration)."""
    card = {
        "full_name": person.full_name,
        "birth_date": person.birth_date.strftime("%d/%m/%Y") if person.birth_date else "",
        "sex": person.sex,
        "doc_masked": mask(person.doc_number),
    }
    if person.foreign is not None:
        card["nationality"] = person.nationality
    return {"qr": text, "card": card}


def card_error(exc: CardError | DecodeError, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": exc.code, "message": exc.message(current_locale()), **extra}}


@bp.route("/api/doc-ma", methods=["POST"])
@kiosk_device_api
@rate_limit(READ_LIMIT, key=device_key)
def read_text() -> tuple[dict[str, Any], int]:
    """A code read by a USB scanner (keyboard or serial mode). Garbled keyboard input is explained, not stored."""
    body = json_body()
    text, source = body.get("text"), body.get("source")
    if not isinstance(text, str) or source not in SOURCES:
        return error(400, "bad_request", "'text' (string) and 'source' (wedge, serial or paste) are required")
    person = None
    mrz = is_mrz_text(text)  # a passport reader's zone: no keyboard-layout diagnosis (A–Z, 0–9, < only)
    try:
        card = documents.read_text(text)
        person = PersonInput.from_document(card)
    except CardError as exc:
        garbling = wedge.diagnose(text) if source == "wedge" and not mrz else None
        if garbling is None:
            return card_error(exc), 422
    else:
        garbling = None
        if source == "wedge" and isinstance(card, CardData) and card.full_name.isascii() and card.address.isascii():
            garbling = wedge.diagnose(text)
    if garbling is not None:
        return {"error": {"code": garbling.code, "message": wedge.message(garbling), "staff": True}}, 422
    assert person is not None
    return card_view(person, text), 200


@bp.route("/api/giai-ma", methods=["POST"])
@kiosk_device_api
@rate_limit(FRAME_LIMIT, key=device_key)
def read_image() -> tuple[dict[str, Any], int]:
    """A camera frame (``?khung=1``: one quick pass, the next frame is the retry) or an uploaded photo."""
    frame = request.args.get("khung") == "1"
    upload = request.files.get("image")
    data = upload.read() if upload is not None else request.get_data()
    try:
        card, text = documents.read_image(data, fallback=not frame)
        person = PersonInput.from_document(card)
    except DecodeError as exc:
        return card_error(exc), exc.http_status
    except CardError as exc:
        return card_error(exc), 422
    return card_view(person, text), 200


@bp.route("/api/nhan-vien", methods=["POST"])
@kiosk_device_api
@rate_limit(PIN_LIMIT, key=device_key)
def staff_pin() -> tuple[dict[str, Any], int]:
    """The staff PIN, for one submission (its idempotency key): returns an approval the submission carries."""
    body = json_body()
    pin, key = body.get("pin"), body.get("key")
    if not isinstance(pin, str) or not isinstance(key, str) or not 0 < len(key) <= 100:
        return error(400, "bad_request", "'pin' and 'key' (strings) are required")
    device = current_device()
    now = clock.utcnow()
    check = services.verify_pin(device, pin, now=now)
    db.session.commit()  # the failure count too
    if check.ok:
        return {"approval": services.issue_approval(device, key)}, 200
    if check.locked_until is not None:
        until = clock.to_local(check.locked_until).strftime("%H:%M")
        return error(429, "pin_locked", _("Nhập sai quá nhiều lần. Mã PIN bị khoá đến %(t)s.", t=until), until=until)
    return error(
        403,
        "pin_wrong",
        _("Mã PIN không đúng. Còn %(n)s lần thử.", n=check.attempts_left),
        attempts_left=check.attempts_left,
    )


def read_guest(raw: Any, i: int, errors: ValidationError) -> services.KioskGuest | None:
    prefix = f"guests.{i}."
    if not isinstance(raw, dict):
        errors.add(f"guests.{i}", _("Dữ liệu người không hợp lệ."), "type_invalid")
        return None
    if isinstance(raw.get("qr"), str):  # the text a scanner or the camera read: a card's QR or a passport's MRZ
        try:
            person = PersonInput.from_document(documents.read_text(raw["qr"]))
        except CardError as exc:
            errors.add(prefix + "qr", exc.message(current_locale()), exc.code)
            return None
        return services.KioskGuest(person=person, manual=False)
    manual = raw.get("manual")
    if not isinstance(manual, dict) or not all(isinstance(v, str) for v in manual.values()):
        errors.add(f"guests.{i}", _("Dữ liệu người không hợp lệ."), "type_invalid")
        return None
    birth = None
    try:
        birth = datetime.strptime(manual.get("birth_date", ""), "%Y-%m-%d").date()
    except ValueError:
        errors.add(prefix + "birth_date", _("Cần nhập ngày sinh."), "birth_date_missing")
    # The name, typed on a touch screen ("trần văn nam" → "Trần Văn Nam"), is checked and cleaned with every other
    # person field by asm.people.services.validate_person, as on every channel.
    full_name = manual.get("full_name", "")
    person = PersonInput(
        doc_type=manual.get("doc_type", "cccd"),
        doc_number=manual.get("doc_number", ""),
        nationality=manual.get("nationality", "") or "VNM",
        full_name=full_name,
        birth_date=birth,
        sex=manual.get("sex") or None,
    )
    return services.KioskGuest(person=person, manual=True)


def scan_time(body: dict[str, Any], now: datetime, errors: ValidationError) -> datetime:
    """The scan time on the server's clock: the kiosk's clock at the scan plus the offset it measured then."""
    scanned, offset = body.get("scanned_at_ms"), body.get("clock_offset_ms", 0)
    if scanned is None:
        return now
    if not isinstance(scanned, int) or not isinstance(offset, int) or isinstance(scanned, bool):
        errors.add("scanned_at_ms", _("Giờ quét không hợp lệ."), "scan_time_invalid")
        return now
    try:
        return datetime.fromtimestamp((scanned + offset) / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        errors.add("scanned_at_ms", _("Giờ quét không hợp lệ."), "scan_time_invalid")
        return now


def optional_int(body: dict[str, Any], name: str, errors: ValidationError) -> int | None:
    value = body.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(name, _("Giá trị không hợp lệ."), "type_invalid")
        return None
    return value


@bp.route("/api/nop", methods=["POST"])
@kiosk_device_api
@idempotent(scope)
def submit() -> tuple[dict[str, Any], int]:
    """File one check-in (a person or a group) or a check-out. Retried by the kiosk with the same
    Idempotency-Key until acknowledged: the first answer is stored and replayed, nothing is filed twice."""
    device = current_device()
    body = json_body()
    now = clock.utcnow()
    errors = ValidationError()
    raw_guests = body.get("guests")
    if not isinstance(raw_guests, list) or not raw_guests:
        errors.add("guests", _("Cần ít nhất một người."), "guests_missing")
        raw_guests = []
    guests = [read_guest(raw, i, errors) for i, raw in enumerate(raw_guests[: services.stay_services.MAX_GROUP + 1])]
    flow = body.get("flow")
    reason = body.get("reason", "")
    sub = services.KioskSubmission(
        flow=flow if isinstance(flow, str) else "",
        guests=[g for g in guests if g is not None],
        scanned_at=scan_time(body, now, errors),
        room_id=optional_int(body, "room_id", errors),
        nights=optional_int(body, "nights", errors),
        reason=reason if isinstance(reason, str) else "",
        waited_offline=request.headers.get(WAITED_HEADER) == "1",
    )
    sub.approved = services.approval_valid(device, request.headers.get(HEADER, "").strip(), body.get("approval"))
    try:
        if errors:
            raise errors
        result = services.file_from_kiosk(device, sub, now=now)
    except ValidationError as exc:
        first = next(iter(exc.errors.values()))[0]
        return error(422, "validation_error", first, fields=exc.errors, codes=exc.codes)
    except IntegrityError:
        db.session.rollback()
        return error(409, "already_in_house", _("Người này đang lưu trú tại cơ sở."))
    return {"result": result}, 201
