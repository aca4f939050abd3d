"""Load the shipped unit lists into the database (idempotent)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from typing import TypeVar

from sqlalchemy import select

from asm.extensions import db
from asm.geo.models import Commune, Province
from asm.geo.units import CommuneRow, ProvinceRow, iter_communes, iter_provinces


def load_units() -> tuple[int, int]:
    """Insert the units missing from the database and rename those whose name changed; returns the counts added."""
    provinces = _load(Province, iter_provinces())
    communes = _load(Commune, iter_communes())
    return provinces, communes


Unit = TypeVar("Unit", Province, Commune)


def _load(model: type[Unit], rows: Iterable[ProvinceRow | CommuneRow]) -> int:
    existing = {obj.code: obj for obj in db.session.scalars(select(model))}
    new = []
    for row in rows:
        values = asdict(row)
        obj = existing.get(row.code)
        if obj is None:
            new.append(values)
        else:
            for key, value in values.items():
                if getattr(obj, key) != value:
                    setattr(obj, key, value)
    if new:
        db.session.execute(model.__table__.insert(), new)
    db.session.flush()
    return len(new)


def set_remote(codes: list[str], *, remote: bool) -> list[Commune]:
    """Mark communes remote ("vùng sâu, vùng xa": foreigners' declarations due in 24 h, not 12) or not. Raises
    ValidationError naming the codes that are no commune; changes nothing then. Flushes, never commits."""
    from flask_babel import lazy_gettext as _l

    from asm.common import ValidationError

    wanted = sorted({c.strip() for c in codes if c.strip()})
    found = list(db.session.scalars(select(Commune).where(Commune.code.in_(wanted)).order_by(Commune.code)))
    unknown = sorted(set(wanted) - {c.code for c in found})
    if unknown or not wanted:
        raise ValidationError(
            {"code": [str(_l("Không có xã/phường mã %(codes)s.", codes=", ".join(unknown) or "—"))]},
            {"code": "commune_unknown"},
        )
    for commune in found:
        commune.remote = remote
    db.session.flush()
    return found


def remote_communes() -> list[Commune]:
    return list(db.session.scalars(select(Commune).where(Commune.remote).order_by(Commune.code)))
