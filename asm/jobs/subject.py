"""A data-subject request (issue 14): everything held about one person (by document number) as JSON and PDF:
their identity, their stays with each stay's history, and who looked at those stays (the access log lines that
name a stay, a receipt or the document number, with the reason given). The request itself is logged (an access
log line, action "subject_export")."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from sqlalchemy import or_, select

from asm.accounts.models import AccessLog, User
from asm.accounts.services import record_access
from asm.clock import fmt_datetime, utcnow
from asm.establishments.models import Establishment
from asm.extensions import db
from asm.people.models import Person
from asm.stays.models import Stay, StayEvent


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def gather(doc_number: str) -> dict[str, Any] | None:
    people = db.session.scalars(select(Person).where(Person.doc_number == doc_number).order_by(Person.id)).all()
    if not people:
        return None
    out: dict[str, Any] = {"doc_number": doc_number, "generated_at": utcnow().isoformat(), "people": []}
    for person in people:
        stays = db.session.scalars(select(Stay).where(Stay.person_id == person.id).order_by(Stay.arrived_at)).all()
        targets = [doc_number]
        stay_items = []
        for stay in stays:
            est = db.session.get(Establishment, stay.establishment_id)
            code = est.code if est else ""
            targets.append(f"{code}/{stay.id}")
            if stay.receipt_no:
                targets.append(stay.receipt_no)
            events = db.session.scalars(select(StayEvent).where(StayEvent.stay_id == stay.id).order_by(StayEvent.id))
            stay_items.append(
                {
                    "establishment": {"code": code, "name": est.name if est else ""},
                    **{
                        c: _plain(getattr(stay, c))
                        for c in ("id", "status", "arrived_at", "expected_departure", "departed_at", "deadline_at",
                                  "filed_at", "receipt_no", "reason")
                    },
                    "history": [
                        {"at": _plain(e.at), "kind": e.kind, "actor": e.actor, "data": e.data} for e in events
                    ],
                }
            )  # fmt: skip
        looks = db.session.execute(
            select(AccessLog.at, AccessLog.action, AccessLog.target, AccessLog.reason, User.username)
            .outerjoin(User, User.id == AccessLog.user_id)
            .where(or_(*(AccessLog.target.contains(t) for t in targets)), AccessLog.action != "subject_export")
            .order_by(AccessLog.id)
        ).all()
        out["people"].append(
            {
                "identity": {
                    c: _plain(getattr(person, c))
                    for c in ("doc_type", "doc_number", "full_name", "birth_date", "sex", "nationality", "address")
                },
                "stays": stay_items,
                "looked_at_by": [
                    {"at": _plain(r.at), "who": r.username, "action": r.action, "target": r.target, "reason": r.reason}
                    for r in looks
                ],
            }
        )
    return out


def log_request(doc_number: str, operator: str) -> None:
    record_access(user_id=None, action="subject_export", target=doc_number[:120], reason=operator[:255], now=utcnow())


def pdf(data: dict[str, Any]) -> bytes:
    """The same content as a readable PDF (fonts with Vietnamese letters, as the other PDFs)."""
    from asm.pdf.fonts import register_fonts

    fonts = register_fonts()
    regular, bold = fonts.regular, fonts.bold
    styles = getSampleStyleSheet()
    body = styles["BodyText"].clone("b", fontName=regular, fontSize=9, leading=12)
    head = styles["Heading2"].clone("h", fontName=bold)
    story: list[Any] = [Paragraph(f"Dữ liệu cá nhân / Personal data: {data['doc_number']}", head)]
    for person in data["people"]:
        ident = person["identity"]
        story.append(Paragraph(f"{ident['full_name']} · {ident['doc_type']} {ident['doc_number']}", head))
        for stay in person["stays"]:
            story.append(
                Paragraph(
                    f"<b>{stay['establishment']['name']}</b> ({stay['establishment']['code']}): "
                    f"{fmt_datetime(stay['arrived_at'])} – {fmt_datetime(stay['departed_at']) or '…'} "
                    f"· {stay['status']}",
                    body,
                )
            )
            for event in stay["history"]:
                story.append(
                    Paragraph(f"&nbsp;&nbsp;{fmt_datetime(event['at'])} {event['kind']} · {event['actor']}", body)
                )
        story.append(Spacer(1, 8))
        for look in person["looked_at_by"]:
            reason = f" · {look['reason']}" if look["reason"] else ""
            story.append(Paragraph(f"{fmt_datetime(look['at'])} {look['who'] or '-'}: {look['action']}{reason}", body))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4).build(story)
    return out.getvalue()
