"""Receiving a FHIR Bundle or an insurance XML record: translate, file the units, keep the message with its answer.
Flush, never commit (the view or command commits once; the operations page's replay goes through here too)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asm.common import Actor
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.hospital.his import fhir, inbox, xml130
from asm.hospital.models import MessageStatus

REASONS = {200: "OK", 201: "Created", 400: "Bad Request", 422: "Unprocessable Entity"}


def status_line(code: int) -> str:
    return f"{code} {REASONS[code]}"


def receive_fhir(
    establishment: Establishment, raw: bytes, *, actor: Actor, now: datetime, cccd_systems: tuple[str, ...] = ()
) -> tuple[int, dict[str, Any]]:
    """A Bundle as POSTed: (HTTP status, answer). 400 with an OperationOutcome for what is not a valid Bundle;
    a transaction with a refused Encounter files nothing (422 OperationOutcome); otherwise 200 with the
    transaction-response or batch-response Bundle, an entry per entry sent."""
    est_id = establishment.id
    key = fhir.digest(raw)
    kept = inbox.stored(est_id, "fhir", [key]).get(key)
    text = raw.decode("utf-8", errors="replace")
    try:
        data = json.loads(raw)
        plan = fhir.read(data, cccd_systems or fhir.DEFAULT_CCCD_SYSTEMS)
    except (ValueError, fhir.BundleInvalid) as exc:
        message = exc.message if isinstance(exc, fhir.BundleInvalid) else f"Not JSON: {exc}"
        issues = exc.issues if isinstance(exc, fhir.BundleInvalid) else [message]
        answer = fhir.outcome("error", "invalid", issues, "bundle_invalid")
        keep(est_id, key, "Bundle", MessageStatus.REJECTED, text, answer, now, "bundle_invalid", message, kept)
        return 400, answer
    fileable = [u for u in plan.units if u.events and not u.refusal and not u.ignored]
    results = inbox.file_units(establishment, [u.events for u in fileable], actor=actor, now=now) if fileable else []
    result_of = {id(u): r for u, r in zip(fileable, results, strict=True)}
    problems: list[tuple[fhir.Unit, str, str]] = []
    for unit in plan.units:
        if unit.refusal:
            problems.append((unit, *unit.refusal))
        elif id(unit) in result_of and result_of[id(unit)].status == "refused":
            error = result_of[id(unit)].error or {}
            problems.append((unit, str(error.get("code", "refused")), describe(error)))
    kind = f"Bundle {plan.type}"
    if plan.type == "transaction" and problems:
        db.session.rollback()
        messages = [f"Encounter {u.key or '?'}: {code}: {message}" for u, code, message in problems]
        answer = fhir.outcome("error", "processing", messages, problems[0][1])
        keep(est_id, key, kind, MessageStatus.REFUSED, text, answer, now, problems[0][1], messages[0], kept)
        return 422, answer
    entries = []
    owner = {i: u for u in plan.units for i in u.entries}
    for i in range(len(plan.entries)):
        owning = owner.get(i)
        if owning is None:
            why = plan.unused.get(i, "not used")
            code = 400 if "not accepted" in why or "no resource" in why else 200
            entries.append(entry(code, fhir.outcome("error" if code == 400 else "information", "informational", [why])))
        elif owning.refusal:
            entries.append(entry(422, fhir.outcome("error", "processing", [owning.refusal[1]], owning.refusal[0])))
        elif owning.ignored:
            entries.append(entry(200, fhir.outcome("information", "informational", [owning.ignored])))
        else:
            result = result_of[id(owning)]
            if result.status == "refused":
                error = result.error or {}
                entries.append(
                    entry(422, fhir.outcome("error", "processing", [describe(error)], str(error.get("code", ""))))
                )
            else:
                first = result.results[:1]
                created = any(r.status == "applied" for r in first) and owning.events[0].type == "admission"
                notes = [f"stay {sid}" for sid in sorted(set(result.stay_ids))] + [
                    f"receipt {no}" for no in result.receipts
                ]
                status = "duplicate: nothing new" if result.status == "duplicate" else "; ".join(notes) or "applied"
                entries.append(entry(201 if created else 200, fhir.outcome("information", "informational", [status])))
    answer = fhir.response_bundle(plan.type, entries)
    if problems:
        keep(est_id, key, kind, MessageStatus.REFUSED, text, answer, now, problems[0][1], problems[0][2], kept)
    elif not fileable:
        keep(est_id, key, kind, MessageStatus.IGNORED, text, answer, now, None, None, kept)
    else:
        keep(est_id, key, kind, MessageStatus.APPLIED, text, answer, now, None, None, kept)
    return 200, answer


def entry(code: int, outcome: dict[str, Any]) -> dict[str, Any]:
    return {"response": {"status": status_line(code), "outcome": outcome}}


def describe(error: dict[str, Any]) -> str:
    fields = error.get("fields") or {}
    details = "; ".join(f"{name}: {' '.join(map(str, msgs))}" for name, msgs in fields.items())
    return f"{error.get('code', 'refused')}: {error.get('message', '')}" + (f" ({details})" if details else "")


def keep(
    est_id: int,
    key: str,
    kind: str,
    status: str,
    raw: str,
    answer: Any,
    now: datetime,
    code: str | None,
    message: str | None,
    kept: inbox.Stored | None,
    *,
    channel: str = "fhir",
) -> None:
    text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
    inbox.keep(
        est_id,
        channel,
        key,
        kind=kind,
        status=status,
        raw=raw,
        answer=text,
        now=now,
        error_code=code,
        error_message=message,
        existing=kept,
    )


# --- insurance XML (asm/hospital/his/xml130.py) --------------------------------------------------------------


@dataclass
class RecordOutcome:
    visit: str
    status: str  # applied | duplicate | ignored | refused
    code: str = ""
    message: str = ""


def receive_xml(establishment: Establishment, data: bytes, *, actor: Actor, now: datetime) -> list[RecordOutcome]:
    """Every summary record of an insurance XML file, each all or nothing; a file read again files nothing new.
    Raises xml130.XmlInvalid for a file that is not one (nothing kept)."""
    return file_records(establishment, xml130.records(data), actor=actor, now=now)


def file_records(
    establishment: Establishment, records: list[xml130.Record], *, actor: Actor, now: datetime
) -> list[RecordOutcome]:
    est_id = establishment.id
    kept = inbox.stored(est_id, "xml", sorted({r.key for r in records}))
    units = [xml130.unit_of(r) for r in records]
    fileable = [i for i, u in enumerate(units) if u.events and not u.refusal and not u.ignored]
    results = inbox.file_units(establishment, [units[i].events for i in fileable], actor=actor, now=now)
    result_of = dict(zip(fileable, results, strict=True))
    out: list[RecordOutcome] = []
    done: set[str] = set()
    for i, (record, unit) in enumerate(zip(records, units, strict=True)):
        if unit.refusal:
            outcome = RecordOutcome(record.visit, "refused", *unit.refusal)
        elif unit.ignored:
            outcome = RecordOutcome(record.visit, "ignored", "", unit.ignored)
        else:
            result = result_of[i]
            error = result.error or {}
            if result.status == "refused":
                outcome = RecordOutcome(record.visit, "refused", str(error.get("code", "refused")), describe(error))
            else:
                outcome = RecordOutcome(record.visit, result.status, "", ", ".join(result.receipts))
        out.append(outcome)
        if record.key in done:
            continue
        done.add(record.key)
        status = {
            "refused": MessageStatus.REFUSED,
            "ignored": MessageStatus.IGNORED,
        }.get(outcome.status, MessageStatus.APPLIED)
        answer = json.dumps(outcome.__dict__, ensure_ascii=False)
        keep(
            est_id,
            record.key,
            unit.kind,
            status,
            record.raw,
            answer,
            now,
            outcome.code or None if status == MessageStatus.REFUSED else None,
            outcome.message if status == MessageStatus.REFUSED else None,
            kept.get(record.key),
            channel="xml",
        )
    return out
