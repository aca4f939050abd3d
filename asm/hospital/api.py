"""POST /api/v1/hospital/events: admission, transfer and discharge events from hospital software, in batches.

The route joins the API blueprint (bearer token, no CSRF, the API rate limit) when asm.hospital.views imports
this module, which create_app does before it registers any blueprint. The body's declaration is in
asm/hospital/schemas.py; the rules are in asm/hospital/events.py.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy.exc import IntegrityError

from asm.api.auth import current_token, token_actor
from asm.api.contract import Outcome, json_object, operation
from asm.api.schemas import error_payload
from asm.api.views import bp as api_bp
from asm.clock import utcnow
from asm.establishments.models import EstablishmentType
from asm.extensions import db
from asm.hospital.events import MAX_BATCH, EventInput, apply_events
from asm.hospital.schemas import EventBatchAnswer, EventBatchIn, read_event
from asm.web.access import api_token


@api_bp.route("/hospital/events", methods=["POST"])
@api_token
@operation(
    f"Admission, transfer and discharge events from hospital software, in a batch of up to {MAX_BATCH:,}",
    {
        200: Outcome("The batch was processed; see each result", EventBatchAnswer),
        403: Outcome("The token's establishment is not a hospital", codes=("not_a_hospital",)),
        409: Outcome(
            "Another request changed the same admissions at the same time; nothing was applied, retry the batch",
            codes=("batch_conflict",),
        ),
        422: Outcome("No `events` list, or more than 1,000 events", codes=("events_missing", "batch_too_large")),
    },
    description="Each event is applied or refused on its own (a malformed event gets its own error, "
    "`event_invalid` with its fields, and the rest are applied); the answer lists one result per event, in the "
    "order sent. Events are applied in `occurred_at` order. A transfer or discharge for an unknown admission is "
    "refused (send the admission first); an event older than the admission's last applied event is recorded in "
    "its history without changing the current state. Rules: docs/HOSPITAL.md.",
    body=EventBatchIn,
)
def hospital_events() -> tuple[dict[str, Any], int]:
    est = current_token().establishment
    if est.type != EstablishmentType.HOSPITAL:
        return error_payload(403, "not_a_hospital", "This token's establishment is not a hospital")
    raw_events = json_object().get("events")
    if not isinstance(raw_events, list) or not raw_events:
        return error_payload(422, "events_missing", "'events' must be a non-empty list")
    if len(raw_events) > MAX_BATCH:
        return error_payload(422, "batch_too_large", f"At most {MAX_BATCH} events per batch")
    now = utcnow()
    parsed = [read_event(raw, i) for i, raw in enumerate(raw_events)]
    good = [p for p in parsed if isinstance(p, EventInput)]
    try:
        applied = {r.index: r for r in apply_events(est, good, actor=token_actor(), now=now)}
        results = [applied[p.index] if isinstance(p, EventInput) else p for p in parsed]
        payload = {
            "results": [r.as_dict() for r in results],
            "summary": dict(Counter(r.status for r in results)),
        }
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return error_payload(
            409, "batch_conflict", "Another request changed the same admissions at the same time; retry"
        )
    return payload, 200
