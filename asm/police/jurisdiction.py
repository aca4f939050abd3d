"""The police jurisdiction: the one filter every police query goes through.

An officer (Công an xã/phường) sees the establishments of their commune; a supervisor (Công an tỉnh) those of
every commune of their province. Anyone else has no police jurisdiction. Every police read composes
`establishment_ids(j)` (or the `scope_*` helpers built on it), so a missing filter is a missing call here, not a
forgotten WHERE clause somewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVarTuple

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, select

from asm.accounts.models import Role, User
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.geo.models import Commune
from asm.text import is_plain

Columns = TypeVarTuple("Columns")  # what a scoped query selects, kept through the scoping


@dataclass(frozen=True)
class Jurisdiction:
    commune_code: str | None = None  # an officer's ward
    province_code: str | None = None  # a supervisor's province

    @property
    def is_province(self) -> bool:
        return self.commune_code is None

    @property
    def key(self) -> str:
        """A short label for the access log: "xa:00004" or "tinh:01"."""
        return f"xa:{self.commune_code}" if self.commune_code else f"tinh:{self.province_code}"

    def covers_commune(self, commune_code: str, province_code: str) -> bool:
        if self.commune_code is not None:
            return commune_code == self.commune_code
        return province_code == self.province_code

    def name(self) -> str:
        if self.commune_code is not None:
            commune = db.session.get(Commune, self.commune_code)
            return commune.full_name if commune else self.commune_code
        from asm.geo.models import Province

        province = db.session.get(Province, self.province_code)
        return province.name if province else str(self.province_code)


def jurisdiction_of(user: User) -> Jurisdiction | None:
    """The area a police user may see, or None (not police, or police not bound to an area)."""
    role = Role(user.role)
    if role == Role.OFFICER and user.commune_code:
        return Jurisdiction(commune_code=user.commune_code)
    if role == Role.SUPERVISOR and user.province_code:
        return Jurisdiction(province_code=user.province_code)
    return None


def current_jurisdiction() -> Jurisdiction:
    """The area of the police user of this request; 403 for anyone without one."""
    j = jurisdiction_of(current_user)
    if j is None:
        abort(403)
    return j


def commune_codes(j: Jurisdiction) -> Select[str]:
    if j.commune_code is not None:
        return select(Commune.code).where(Commune.code == j.commune_code)
    return select(Commune.code).where(Commune.province_code == j.province_code)


def establishment_ids(j: Jurisdiction) -> Select[int]:
    """The ids of the establishments in the jurisdiction, as a subquery to compose with."""
    query = select(Establishment.id)
    if j.commune_code is not None:
        return query.where(Establishment.commune_code == j.commune_code)
    return query.where(Establishment.commune_code.in_(commune_codes(j)))


def scope_establishments(query: Select[*Columns], j: Jurisdiction) -> Select[*Columns]:
    """Restrict a query that selects from `establishments` to the jurisdiction."""
    if j.commune_code is not None:
        return query.where(Establishment.commune_code == j.commune_code)
    return query.where(Establishment.commune_code.in_(commune_codes(j)))


def scope_stays(query: Select[*Columns], j: Jurisdiction) -> Select[*Columns]:
    """Restrict a query that selects from `stays` to the stays of establishments in the jurisdiction."""
    from asm.stays.models import Stay

    return query.where(Stay.establishment_id.in_(establishment_ids(j)))


def covers_establishment(j: Jurisdiction, establishment: Establishment) -> bool:
    return j.covers_commune(establishment.commune_code, establishment.commune.province_code)


def establishment_in(j: Jurisdiction, code: str) -> Establishment | None:
    """The establishment with this code if it is in the jurisdiction, else None (the caller answers 404)."""
    if not is_plain(code):
        return None
    return db.session.scalar(scope_establishments(select(Establishment).where(Establishment.code == code), j))


def commune_in(j: Jurisdiction, code: str) -> Commune | None:
    commune = db.session.get(Commune, code) if is_plain(code) else None
    if commune is None or not j.covers_commune(commune.code, commune.province_code):
        return None
    return commune
