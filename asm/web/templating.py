"""Jinja set-up: the one set of date filters (asm/clock.py: dd/mm/yyyy, HH:MM, Vietnam time), labels, each trade's
words (``words(est)``, asm/trades.py), StrictUndefined in development and tests."""

from __future__ import annotations

from typing import Any

from flask import Flask, session
from flask_babel import gettext
from flask_wtf.csrf import generate_csrf
from jinja2 import StrictUndefined

from asm.accounts.models import ROLE_LABELS, Role
from asm.clock import fmt_date, fmt_datetime, fmt_time, to_local, utcnow
from asm.establishments.models import DECISION_LABELS, STATUS_LABELS, TYPE_LABELS, Decision, EstablishmentType, Status
from asm.foreigners.labels import VISA_TYPES
from asm.idcard.countries import state_name
from asm.people.models import DOC_LABELS, SEX_LABELS, DocType
from asm.police.logwords import ACTIONS as LOG_ACTIONS
from asm.trades import Words, place, trade_words
from asm.web.htmx import add_vary
from asm.web.i18n import current_locale, request_translations


def init_app(app: Flask) -> None:
    if app.config.get("TEMPLATES_STRICT"):
        app.jinja_env.undefined = StrictUndefined
    app.jinja_env.filters.update(
        date=fmt_date,
        datetime=fmt_datetime,
        time=fmt_time,
        place=lambda value: place(value) if isinstance(value, str) else value,
        role_label=lambda r: gettext(ROLE_LABELS[Role(r)]),
        type_label=lambda t: gettext(TYPE_LABELS[EstablishmentType(t)]),
        status_label=lambda s: gettext(STATUS_LABELS[Status(s)]),
        decision_label=lambda d: gettext(DECISION_LABELS[Decision(d)]),
        log_action=lambda a: gettext(LOG_ACTIONS[a]) if a in LOG_ACTIONS else a,
        doc_label=lambda d: gettext(DOC_LABELS[DocType(d)]),
        sex_label=lambda s: gettext(SEX_LABELS[s]) if s in SEX_LABELS else "",
        localdate=lambda v: to_local(v).date(),
        state_name=lambda code: state_name(code, current_locale()) or code,
        visa_label=lambda code: gettext(VISA_TYPES[code]) if code in VISA_TYPES else code,
    )
    app.after_request(add_vary)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "csrf_token": generate_csrf,
            "locale": current_locale(),
            "now_utc": utcnow,
            "lang_in_session": session.get("lang"),
            "words": words,
            "error_items": error_items,
        }


def words(est: Any = None) -> Words:
    """The words of an establishment's trade (or of its type, a string) in the request's language; none: neutral."""
    kind = getattr(est, "type", est)
    return trade_words(kind, request_translations())


GUEST_FIELDS = {"doc_type", "doc_number", "nationality", "full_name", "birth_date", "sex", "address"}


def error_items(errors: Any = None, guests: Any = (), *, fields: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """The lines of a refused form's summary (templates/_errors.html): (id of the field, message).

    `errors`: the form's own errors, field name -> a message or a list of them; the field's id is its name (dots
    become dashes), or `fields[name]`. `guests`: the person blocks (GuestForm), whose fields are "guests-<key>-<name>";
    with more than one, each line says which person ("Người 2: ...").
    """
    items: list[tuple[str, str]] = []
    many = len(guests) > 1
    for n, guest in enumerate(guests, start=1):
        for name, messages in (guest.errors or {}).items():
            text = " ".join(messages) if isinstance(messages, list | tuple) else str(messages)
            if many:
                text = gettext("Người %(n)s: %(message)s", n=n, message=text)
            target = f"guests-{guest.key}-{name}" if name in GUEST_FIELDS else f"guest-{guest.key}"
            items.append((target, text))
    for name, messages in (errors or {}).items():
        text = " ".join(messages) if isinstance(messages, list | tuple) else str(messages)
        if text:
            items.append(((fields or {}).get(name, name.replace(".", "-")), text))
    return items
