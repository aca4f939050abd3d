"""Jinja set-up: filters for Vietnamese dates, labels, StrictUndefined in development and tests."""

from __future__ import annotations

from typing import Any

from flask import Flask, session
from flask_babel import gettext
from flask_wtf.csrf import generate_csrf
from jinja2 import StrictUndefined

from asm.accounts.models import ROLE_LABELS, Role
from asm.clock import fmt_date, fmt_datetime, to_local, utcnow
from asm.establishments.models import TYPE_LABELS, EstablishmentType
from asm.foreigners.labels import VISA_TYPES
from asm.idcard.countries import state_name
from asm.people.models import DOC_LABELS, SEX_LABELS, DocType
from asm.web.htmx import add_vary
from asm.web.i18n import current_locale


def init_app(app: Flask) -> None:
    if app.config.get("TEMPLATES_STRICT"):
        app.jinja_env.undefined = StrictUndefined
    app.jinja_env.filters.update(
        date=fmt_date,
        datetime=fmt_datetime,
        time=lambda v: to_local(v).strftime("%H:%M") if v else "",
        role_label=lambda r: gettext(ROLE_LABELS[Role(r)]),
        type_label=lambda t: gettext(TYPE_LABELS[EstablishmentType(t)]),
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
        }
