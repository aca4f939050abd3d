"""Kiosk devices: register, pair, revoke, staff PIN, and filing what a kiosk sends. Writes flush, never commit.

A kiosk files through the same stay services as the desk and the API (``asm.stays.services``), with
``Source.KIOSK`` and the actor "Kiosk: <device name>".
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from asm import offline
from asm.clock import aware, to_local
from asm.common import Actor, ValidationError, free_text
from asm.devices.models import KioskDevice, KioskFlow
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.people.models import mask
from asm.people.services import PersonInput, find_person, validate_person
from asm.stays import services as stay_services
from asm.stays.models import Source, Stay, StayStatus

PAIRING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32: no I, L, O, U
PAIRING_LENGTH = 8
PAIRING_TTL = timedelta(minutes=30)
CREDENTIAL_PREFIX = "kio_"
PIN_MIN, PIN_MAX = 4, 8
PIN_MAX_FAILURES = 5
PIN_LOCK = timedelta(minutes=5)
APPROVAL_MAX_AGE = timedelta(hours=24)  # an approval given at the kiosk stays valid while the filing waits offline
LAST_SEEN_EVERY = timedelta(minutes=1)
IDLE_MIN, IDLE_MAX = 15, 600
MAX_NIGHTS = 29  # a stay of 30 days or more is temporary residence (tạm trú), not a stay notification

HOTEL_REASONS = ("Du lịch", "Công tác", "Thăm thân", "Học tập", "Khác")
# The hospital flows file ordinary stays for now; asm.hospital (issue 4) may take them over (docs/KIOSK.md).
FLOW_REASONS = {KioskFlow.HOSPITAL_ADMISSION: "Khám chữa bệnh", KioskFlow.CARER: "Chăm sóc người bệnh"}


# --- pairing codes, credentials, PIN ---------------------------------------------------------------------


def sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


CROCKFORD_DIGITS = str.maketrans("ILO", "110")


def normalize_pairing_code(text: str) -> str:
    """What a person types: any case, spaces and dashes, and the letters Crockford reads as digits."""
    cleaned = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    return cleaned.translate(CROCKFORD_DIGITS)


def format_pairing_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def _new_pairing_code(device: KioskDevice, now: datetime) -> str:
    code = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(PAIRING_LENGTH))
    device.pairing_hash = sha256(code)
    device.pairing_expires_at = now + PAIRING_TTL
    return format_pairing_code(code)


def check_pin_format(pin: str, errors: ValidationError) -> None:
    if not (pin.isascii() and pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX):
        errors.add("pin", _l("Mã PIN gồm %(a)s–%(b)s chữ số.", a=PIN_MIN, b=PIN_MAX), "pin_format")


def check_flows(flows: list[str], errors: ValidationError) -> list[str]:
    chosen = [f for f in KioskFlow if f.value in flows]
    if not chosen or len(chosen) != len(set(flows)):
        errors.add("flows", _l("Chọn ít nhất một quy trình hợp lệ."), "flows_invalid")
    return [f.value for f in chosen]


def register_device(
    establishment: Establishment,
    *,
    name: str,
    flows: list[str],
    pin: str,
    guest_picks_room: bool = False,
    idle_seconds: int = 90,
    created_by_id: int | None,
    now: datetime,
) -> tuple[KioskDevice, str]:
    """A new kiosk and its one-time pairing code (returned once; only its hash is kept)."""
    errors = ValidationError()
    name = free_text(errors, "name", name, max_length=80)
    if not name and "name" not in errors.errors:
        errors.add("name", _l("Cần tên máy kiosk (tối đa 80 ký tự)."), "name_missing")
    chosen = check_flows(flows, errors)
    check_pin_format(pin or "", errors)
    if not IDLE_MIN <= idle_seconds <= IDLE_MAX:
        errors.add("idle_seconds", _l("Thời gian chờ từ %(a)s đến %(b)s giây.", a=IDLE_MIN, b=IDLE_MAX), "idle_range")
    if errors:
        raise errors
    device = KioskDevice(
        establishment=establishment,
        name=name,
        flows=chosen,
        guest_picks_room=guest_picks_room,
        idle_seconds=idle_seconds,
        pin_hash=generate_password_hash(pin),
        pin_offline=offline.pin_material(pin, current_app.config["OFFLINE_PIN_ITERATIONS"]),
        created_by_id=created_by_id,
        created_at=now,
    )
    code = _new_pairing_code(device, now)
    db.session.add(device)
    db.session.flush()
    return device, code


def new_pairing_code(device: KioskDevice, *, now: datetime) -> str:
    """A fresh code for pairing the device again (a new browser); the old credential works until then."""
    if device.is_revoked:
        raise ValidationError({"device": [str(_l("Máy kiosk đã bị thu hồi."))]}, {"device": "revoked"})
    code = _new_pairing_code(device, now)
    db.session.flush()
    return code


def pair_device(code: str, *, now: datetime) -> tuple[KioskDevice, str]:
    """Exchange a valid pairing code for a device credential (returned once). The code works once only."""
    normalized = normalize_pairing_code(code)
    device = None
    if len(normalized) == PAIRING_LENGTH:
        device = db.session.scalar(select(KioskDevice).where(KioskDevice.pairing_hash == sha256(normalized)))
    if (
        device is None
        or device.is_revoked
        or device.pairing_expires_at is None
        or aware(device.pairing_expires_at) < now
        or not device.establishment.active
    ):
        raise ValidationError(
            {"code": [str(_l("Mã ghép nối không đúng hoặc đã hết hạn."))]}, {"code": "pairing_code_invalid"}
        )
    credential = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
    device.credential_hash = sha256(credential)  # replaces the credential of an earlier pairing
    device.pairing_hash = None
    device.pairing_expires_at = None
    device.paired_at = now
    device.last_seen_at = now
    db.session.flush()
    return device, credential


def device_for_credential(credential: str | None) -> KioskDevice | None:
    if not credential or not credential.startswith(CREDENTIAL_PREFIX):
        return None
    device = db.session.scalar(
        select(KioskDevice)
        .options(joinedload(KioskDevice.establishment, innerjoin=True))
        .where(KioskDevice.credential_hash == sha256(credential))
    )
    if device is None or device.is_revoked or not device.establishment.active:
        return None
    return device


def revoke_device(device: KioskDevice, *, now: datetime) -> None:
    """Final: the credential and any pending pairing code stop working at once."""
    device.revoked_at = device.revoked_at or now
    device.pairing_hash = None
    device.pairing_expires_at = None
    db.session.flush()


def touch(device: KioskDevice, *, now: datetime) -> None:
    """Last seen, written at most once a minute (not on every request)."""
    if device.last_seen_at is None or now - aware(device.last_seen_at) >= LAST_SEEN_EVERY:
        device.last_seen_at = now
        db.session.flush()


@dataclass(frozen=True)
class PinCheck:
    ok: bool
    locked_until: datetime | None = None
    attempts_left: int = 0


def verify_pin(device: KioskDevice, pin: str, *, now: datetime) -> PinCheck:
    """Check the staff PIN. After PIN_MAX_FAILURES wrong PINs in a row the PIN is locked for PIN_LOCK.

    The failure count is written in the same transaction: the caller must commit on failure too.
    """
    if device.pin_locked_until is not None and aware(device.pin_locked_until) > now:
        return PinCheck(False, locked_until=aware(device.pin_locked_until))
    if check_password_hash(device.pin_hash, pin or ""):
        device.pin_failures = 0
        device.pin_locked_until = None
        iterations = current_app.config["OFFLINE_PIN_ITERATIONS"]
        if not device.pin_offline or device.pin_offline.get("iterations") != iterations:
            # A kiosk registered before offline PINs, or a new iteration count: made now that the PIN is known.
            device.pin_offline = offline.pin_material(pin, iterations)
        db.session.flush()
        return PinCheck(True)
    device.pin_failures = (device.pin_failures or 0) + 1
    locked = None
    if device.pin_failures >= PIN_MAX_FAILURES:
        device.pin_failures = 0
        locked = device.pin_locked_until = now + PIN_LOCK
    db.session.flush()
    return PinCheck(False, locked_until=locked, attempts_left=0 if locked else PIN_MAX_FAILURES - device.pin_failures)


def _approvals() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="asm-kiosk-approval")


def issue_approval(device: KioskDevice, key: str) -> str:
    """A staff approval, after a correct PIN, for the one submission with this idempotency key."""
    return _approvals().dumps({"d": device.id, "k": key})


OFFLINE_APPROVAL = "offline."


def offline_pin(device: KioskDevice, *, now: datetime) -> dict[str, Any] | None:
    """What the kiosk holds to check its staff PIN while the server is away (docs/OFFLINE.md): the salt, the
    iterations and the verifier half of the PIN's PBKDF2, valid OFFLINE_PIN_HOURS from now (renewed at every
    contact), and the lockout. Never the half that signs approvals."""
    material = device.pin_offline
    if not material:
        return None
    hours = current_app.config["OFFLINE_PIN_HOURS"]
    return {
        "salt": material["salt"],
        "iterations": material["iterations"],
        "verifier": material["verifier"],
        "validUntilMs": int((now + timedelta(hours=hours)).timestamp() * 1000),
        "maxFailures": PIN_MAX_FAILURES,
        "lockMs": int(PIN_LOCK.total_seconds() * 1000),
    }


def approval_valid(device: KioskDevice, key: str | None, token: Any) -> bool:
    if not key or not isinstance(token, str) or not token:
        return False
    if token.startswith(OFFLINE_APPROVAL):  # the PIN was checked on the kiosk while the server was away
        return offline.proof_valid(device.pin_offline, key, token[len(OFFLINE_APPROVAL) :])
    try:
        data = _approvals().loads(token, max_age=int(APPROVAL_MAX_AGE.total_seconds()))
    except BadSignature:
        return False
    return isinstance(data, dict) and data.get("d") == device.id and data.get("k") == key


# --- filing ------------------------------------------------------------------------------------------------


@dataclass
class KioskGuest:
    person: PersonInput
    manual: bool  # typed in at the kiosk rather than read from the card's code: needs staff approval


@dataclass
class KioskSubmission:
    flow: str
    guests: list[KioskGuest]
    scanned_at: datetime  # the scan time on the server's clock (the kiosk corrected its own clock)
    approved: bool = False
    room_id: int | None = None
    nights: int | None = None
    reason: str = ""
    waited_offline: bool = False  # kept on the kiosk while the server was away (docs/OFFLINE.md)


def needs_approval(device: KioskDevice, sub: KioskSubmission) -> bool:
    return (
        sub.flow == KioskFlow.CHECK_OUT
        or any(g.manual for g in sub.guests)
        or (sub.room_id is not None and not device.guest_picks_room)
    )


def file_from_kiosk(device: KioskDevice, sub: KioskSubmission, *, now: datetime) -> dict[str, Any]:
    """File a kiosk submission: a check-in (hotel, hospital admission, carer) or a check-out.

    The stay arrives at the scan time, so its deadline counts from the scan, not from when a submission that
    waited offline reached the server. Returns what the receipt screen shows (ID numbers masked).
    """
    errors = ValidationError()
    if sub.flow not in tuple(KioskFlow) or not device.offers(sub.flow):
        errors.add("flow", _l("Máy kiosk này không làm quy trình này."), "flow_not_offered")
        raise errors
    if needs_approval(device, sub) and not sub.approved:
        errors.add("approval", _l("Bước này cần nhân viên nhập mã PIN."), "approval_required")
        raise errors
    actor = Actor(label=f"Kiosk: {device.name}", kind="kiosk")
    if sub.flow == KioskFlow.CHECK_OUT:
        return _check_out(device, sub, actor=actor, now=now)

    if sub.flow == KioskFlow.HOTEL_CHECK_IN:
        reason = sub.reason if sub.reason in HOTEL_REASONS else ""
        if not reason:
            errors.add("reason", _l("Chọn lý do lưu trú."), "reason_missing")
        room_id = sub.room_id
    else:
        reason = FLOW_REASONS[KioskFlow(sub.flow)]
        room_id = None  # wards and beds belong to asm.hospital (issue 4)
    departure: date | None = None
    if sub.nights is not None:
        if not 1 <= sub.nights <= MAX_NIGHTS:
            errors.add("nights", _l("Số đêm từ 1 đến %(n)s.", n=MAX_NIGHTS), "nights_range")
        else:
            departure = to_local(sub.scanned_at).date() + timedelta(days=sub.nights)
    if errors:
        raise errors
    data = stay_services.CheckInInput(
        guests=[g.person for g in sub.guests],
        arrived_at=sub.scanned_at,
        reason=reason,
        room_id=room_id,
        expected_departure=departure,
        file_now=True,
        waited_offline=sub.waited_offline,
    )
    result = stay_services.check_in(device.establishment, data, actor=actor, now=now, source=Source.KIOSK)
    head = result.stays[0]
    return {
        "kind": "check_in",
        "flow": sub.flow,
        "receipt_no": head.receipt_no,
        "arrived_at": head.arrived_at.isoformat(),
        "deadline_at": head.deadline_at.isoformat(),
        "room": head.room.name if head.room else None,
        "people": [_person_view(s) for s in result.stays],
    }


def _check_out(device: KioskDevice, sub: KioskSubmission, *, actor: Actor, now: datetime) -> dict[str, Any]:
    errors = ValidationError()
    if len(sub.guests) != 1:
        errors.add("guests", _l("Trả phòng từng người một."), "one_guest")
        raise errors
    guest = sub.guests[0].person
    validate_person(guest, errors, "guests.0.", to_local(now).date())
    if errors:
        raise errors
    person = find_person(guest.doc_type, guest.doc_number, guest.nationality)
    stay = None
    if person is not None:
        stay = db.session.scalar(
            select(Stay).where(
                Stay.establishment_id == device.establishment_id,
                Stay.person_id == person.id,
                Stay.status == StayStatus.IN_HOUSE,
            )
        )
    if stay is None:
        errors.add("guests.0.doc_number", _l("Không thấy người này đang lưu trú tại cơ sở."), "not_in_house")
        raise errors
    event = stay_services.check_out(
        stay, at=min(sub.scanned_at, now), actor=actor, now=now, waited_offline=sub.waited_offline
    )
    return {
        "kind": "check_out",
        "flow": sub.flow,
        "receipt_no": event.receipt_no,
        "departed_at": sub.scanned_at.isoformat(),
        "room": stay.room.name if stay.room else None,
        "people": [_person_view(stay)],
    }


def _person_view(stay: Stay) -> dict[str, str]:
    view = {"full_name": stay.person.full_name, "doc_masked": mask(stay.person.doc_number)}
    foreign = getattr(stay, "foreign", None)
    if foreign is not None:  # a foreign national: the temporary-residence declaration's own deadline
        view["nationality"] = stay.person.nationality
        view["declaration_deadline_at"] = foreign.deadline_at.isoformat()
    return view
