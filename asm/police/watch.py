"""The watch-list rule, matched inside every filing of every channel (desk, kiosk, API, hospital events and
desk): the filing core's writers raise the alerts for each stay their plan files, in the same transaction, so
an alert exists exactly when the notification does.

The rule, written once and used by both writers: an active entry applies to the filings at establishments of its
commune, or of its whole province when it has no commune (a supervisor's entry); it matches the person's
document number or old ID number. The alert belongs to the ward of the establishment. It costs one indexed
query per filing (``doc_number IN (...) AND active`` on ``ix_watch_entries_doc_number_active``) and adds rows
only on a match.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import bindparam, insert, text

from asm.extensions import db
from asm.police.models import Alert, AlertState

if TYPE_CHECKING:
    from asm.filing.plan import Plan, StayRow

# `{commune}` is the establishment's commune code, as a bound parameter of the writer's own driver.
SCOPE = (
    "w.active AND (w.commune_code = {commune} OR w.commune_code IS NULL "
    "AND w.province_code = (SELECT province_code FROM communes WHERE code = {commune}))"
)

_MATCH = text(
    "SELECT w.id, w.doc_number FROM watch_entries w WHERE w.doc_number IN :numbers AND "
    + SCOPE.format(commune=":commune")
    + " ORDER BY w.id"
).bindparams(bindparam("numbers", expanding=True))


def raise_alerts(plan: Plan) -> None:
    """Alerts for the stays the plan files (their ids known: the writer calls this after inserting them)."""
    numbers: dict[str, list[StayRow]] = {}
    for stay in plan.filed:
        for number in stay.numbers:
            numbers.setdefault(number, []).append(stay)
    if not numbers:
        return
    rows = []
    for entry_id, doc_number in db.session.connection().execute(
        _MATCH, {"numbers": sorted(numbers), "commune": plan.commune_code}
    ):
        for stay in numbers[doc_number]:
            if (entry_id, stay) in plan.alerts:
                continue
            plan.alerts.append((entry_id, stay))
            rows.append(
                {
                    "watch_entry_id": entry_id,
                    "stay_id": stay.id,
                    "commune_code": plan.commune_code,
                    "state": AlertState.NEW,
                    "created_at": plan.now,
                }
            )
    if rows:
        db.session.connection().execute(insert(Alert.__table__), rows)
