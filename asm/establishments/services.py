"""Create establishments and their rooms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from asm.common import ValidationError, free_text
from asm.establishments.models import Establishment, EstablishmentType, Room, Status
from asm.extensions import db
from asm.geo.models import Commune

NAME_MAX = 200  # establishments.name
ADDRESS_MAX = 300  # establishments.address
ROOM_NAME_MAX = 40  # rooms.name


def create_establishment(
    *,
    code: str,
    name: str,
    type: str,
    address: str,
    commune_code: str,
    licence_no: str | None = None,
    phone: str | None = None,
    rooms: list[str] | None = None,
    email: str | None = None,
    capacity: int | None = None,
    status: Status = Status.APPROVED,
) -> Establishment:
    """An establishment. The platform admin's (CLI, admin pages) are approved at once; a self-registration
    (asm/establishments/registration.py) starts `pending`."""
    errors = ValidationError()
    code = (code or "").strip().upper()
    if not code or not code.replace("-", "").isalnum():
        errors.add("code", _l("Mã cơ sở chỉ gồm chữ, số và dấu gạch."), "code_invalid")
    elif db.session.scalar(select(Establishment.id).where(Establishment.code == code)):
        errors.add("code", _l("Mã cơ sở đã có."), "code_taken")
    values = check_details(
        errors, name=name, type=type, address=address, commune_code=commune_code, licence_no=licence_no, phone=phone
    )
    room_names = [free_text(errors, "rooms", room, max_length=ROOM_NAME_MAX) for room in rooms or []]
    if errors:
        raise errors
    est = Establishment(code=code, email=email, capacity=capacity, status=status, **values)
    db.session.add(est)
    db.session.flush()
    add_rooms(est, room_names)
    return est


def check_details(
    errors: ValidationError,
    *,
    name: str,
    type: str,
    address: str,
    commune_code: str,
    licence_no: str | None,
    phone: str | None,
) -> dict[str, str | None]:
    """The establishment's own fields, cleaned (asm.text); refusals are added to `errors`."""
    name = free_text(errors, "name", name, max_length=NAME_MAX)
    if not name and "name" not in errors.errors:
        errors.add("name", _l("Cần tên cơ sở."), "name_missing")
    if type not in tuple(EstablishmentType):
        errors.add("type", _l("Loại cơ sở không hợp lệ."), "type_invalid")
    address = free_text(errors, "address", address, max_length=ADDRESS_MAX)
    if not address and "address" not in errors.errors:
        errors.add("address", _l("Cần địa chỉ."), "address_missing")
    licence = free_text(errors, "licence_no", licence_no, max_length=64) or None
    phone = free_text(errors, "phone", phone, max_length=32) or None
    if db.session.get(Commune, commune_code or "") is None:
        errors.add("commune_code", _l("Xã/phường không có trong danh mục."), "commune_invalid")
    return {
        "name": name,
        "type": type,
        "address": address,
        "commune_code": commune_code,
        "licence_no": licence,
        "phone": phone,
    }


def add_rooms(establishment: Establishment, names: list[str], capacity: int = 2) -> list[Room]:
    """Rooms by name (free text, asm.text: at most 40 characters, no control or bidi character); names the
    establishment has already are skipped. Raises ValidationError (field ``names``) with nothing added."""
    errors = ValidationError()
    names = [free_text(errors, "names", name, max_length=ROOM_NAME_MAX) for name in names]
    if errors:
        raise errors
    have = {r.name for r in establishment.rooms}
    rooms = []
    for name in names:
        if name and name not in have:
            room = Room(establishment=establishment, name=name, capacity=capacity)
            db.session.add(room)
            rooms.append(room)
            have.add(name)
    db.session.flush()
    return rooms
