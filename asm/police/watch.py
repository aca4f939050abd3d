"""The watch-list check that runs inside every filing (desk, API, kiosk): `asm.stays.services` calls
`alert_on_filing` when stays become filed, in the same transaction, so the alert exists exactly when the
notification does.

It costs one indexed query per filing (``doc_number IN (...) AND active`` on ``ix_watch_entries_doc_number_active``)
and adds rows only on a match. An entry applies to the filings in its commune, or in its whole province when it
has no commune (a supervisor's entry). The alert belongs to the ward of the establishment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select

from asm.establishments.models import Establishment
from asm.extensions import db
from asm.geo.models import Commune
from asm.police.models import Alert, AlertState, WatchEntry
from asm.stays.models import Stay


def alert_on_filing(establishment: Establishment, stays: Sequence[Stay], *, now: datetime) -> list[Alert]:
    numbers: dict[str, list[Stay]] = {}
    for stay in stays:
        person = stay.person
        for number in (person.doc_number, person.old_id_number):
            if number:
                numbers.setdefault(number.upper(), []).append(stay)
    if not numbers:
        return []
    province = select(Commune.province_code).where(Commune.code == establishment.commune_code).scalar_subquery()
    entries = db.session.scalars(
        select(WatchEntry).where(
            WatchEntry.doc_number.in_(list(numbers)),
            WatchEntry.active,
            or_(
                WatchEntry.commune_code == establishment.commune_code,
                (WatchEntry.commune_code.is_(None)) & (WatchEntry.province_code == province),
            ),
        )
    ).all()
    alerts = []
    done: set[tuple[int, int]] = set()
    for entry in entries:
        for stay in numbers.get(entry.doc_number, []):
            if (entry.id, id(stay)) in done:
                continue
            done.add((entry.id, id(stay)))
            alert = Alert(
                watch_entry=entry,
                stay=stay,
                commune_code=establishment.commune_code,
                state=AlertState.NEW,
                created_at=now,
            )
            db.session.add(alert)
            alerts.append(alert)
    if alerts:
        db.session.flush()
    return alerts
