"""Vietnamese first, English second: the choice lives in the session (or ?lang=)."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if has_request_context():
        wanted = request.args.get("lang") or session.get("lang")
        if wanted in languages:
            return wanted
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_locale() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale else "vi"


def label(pair: tuple[str, str]) -> str:
    """Pick the Vietnamese or English half of a (vi, en) label."""
    return pair[1] if current_locale() == "en" else pair[0]
