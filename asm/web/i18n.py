"""Vietnamese first, English second: the choice lives in the session (or ?lang=)."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session

from asm.i18n import Translator, translations


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if has_request_context():
        wanted = request.args.get("lang") or session.get("lang")
        if isinstance(wanted, str) and wanted in languages:
            return wanted
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def current_locale() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale else "vi"


def request_translations() -> Translator:
    """The catalogue's translations in the request's language, for the pure PDF and export builders."""
    return translations(current_locale())
