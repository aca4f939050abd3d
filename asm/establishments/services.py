"""Create establishments and their rooms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from asm.common import ValidationError
from asm.establishments.models import Establishment, EstablishmentType, Room
from asm.extensions import db
from asm.geo.models import Commune


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
) -> Establishment:
    errors = ValidationError()
    code = (code or "").strip().upper()
    if not code or not code.replace("-", "").isalnum():
        errors.add("code", _l("Mã cơ sở chỉ gồm chữ, số và dấu gạch."), "code_invalid")
    elif db.session.scalar(select(Establishment.id).where(Establishment.code == code)):
        errors.add("code", _l("Mã cơ sở đã có."), "code_taken")
    if not (name or "").strip():
        errors.add("name", _l("Cần tên cơ sở."), "name_missing")
    if type not in tuple(EstablishmentType):
        errors.add("type", _l("Loại cơ sở không hợp lệ."), "type_invalid")
    if not (address or "").strip():
        errors.add("address", _l("Cần địa chỉ."), "address_missing")
    if db.session.get(Commune, commune_code or "") is None:
        errors.add("commune_code", _l("Xã/phường không có trong danh mục."), "commune_invalid")
    if errors:
        raise errors
    est = Establishment(
        code=code,
        name=name.strip(),
        type=type,
        address=address.strip(),
        commune_code=commune_code,
        licence_no=licence_no,
        phone=phone,
    )
    db.session.add(est)
    db.session.flush()
    add_rooms(est, rooms or [])
    return est


def add_rooms(establishment: Establishment, names: list[str], capacity: int = 2) -> list[Room]:
    have = {r.name for r in establishment.rooms}
    rooms = []
    for name in names:
        name = name.strip()
        if name and name not in have:
            room = Room(establishment=establishment, name=name, capacity=capacity)
            db.session.add(room)
            rooms.append(room)
            have.add(name)
    db.session.flush()
    return rooms
