"""Words from the gettext catalogue without Flask: for PDF and export builders, background jobs and pure rules.

The catalogue (``asm/translations``) is the only place a sentence lives. Its msgids are Vietnamese, so Vietnamese
needs no file (a ``NullTranslations`` gives the msgid back) and English comes from ``en/LC_MESSAGES/messages.mo``.

- A pure builder takes a ``Translator`` (``gettext``/``ngettext``: ``translations("en")``, or Flask-Babel's
  translations of the request, which are the same objects) and says ``_ = translations.gettext``; ``pybabel
  extract`` finds its ``_("...")`` calls. Placeholders are named: ``_("Trang %(page)s") % {"page": 1}``.
- A table defined at import time (enum labels, error messages) holds msgids marked with ``N_()`` and is
  translated where it is shown: ``translations.gettext(DOC_LABELS[kind])`` in a builder, ``_(...)`` in a view or
  ``{{ _(...) }}`` in a template.
- A table of words per context (each trade's words, asm/trades.py) marks them ``NP_(context, msgid)``.
- Where one Vietnamese word needs two English ones (the button "Gia hạn" is "Extend", the receipt's kind of
  notification "Gia hạn" is "Extension"), the paper's word has a context: ``pgettext("event", "Gia hạn")``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Protocol, cast

from babel.support import NullTranslations, Translations

LOCALES = ("vi", "en")
SOURCE_LOCALE = "vi"  # the language of the msgids
CATALOGUE = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"


class Translator(Protocol):
    """What builders need of a translations object (``gettext.NullTranslations`` and Babel's ``Translations``)."""

    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...

    def pgettext(self, context: str, message: str, /) -> str: ...


def N_(message: str) -> str:
    """Mark a msgid for the catalogue where it cannot be translated yet (module-level tables)."""
    return message


def NP_(context: str, message: str) -> tuple[str, str]:
    """Mark a msgid with its gettext context (``msgctxt``) in a module-level table; translate it later with
    ``translations.pgettext(context, message)`` (asm/trades.py: each trade's words)."""
    return context, message


def normalize_locale(locale: str) -> str:
    """Map "vi", "vi_VN", "en-GB" to "vi" / "en"; anything else is a ValueError."""
    short = locale.replace("-", "_").split("_", 1)[0].lower()
    if short not in LOCALES:
        raise ValueError(f"unsupported locale {locale!r}; expected one of {', '.join(LOCALES)}")
    return short


@cache
def translations(locale: str) -> Translator:
    """The catalogue's translations for a locale (loaded once per process).

    A missing compiled catalogue is an error here (``make setup`` compiles it): an English report must never come
    out in Vietnamese without a word.
    """
    lang = normalize_locale(locale)
    # Babel types pgettext as `str | object` (its lazy strings); with a compiled catalogue it returns str.
    if lang == SOURCE_LOCALE:
        return cast(Translator, NullTranslations())
    mo = CATALOGUE / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
    if not mo.is_file():
        raise FileNotFoundError(f"{mo} is missing: run `make translations` (or `make setup`) to compile it")
    return cast(Translator, Translations.load(str(CATALOGUE), [lang], DOMAIN))


__all__ = ["CATALOGUE", "LOCALES", "NP_", "N_", "SOURCE_LOCALE", "Translator", "normalize_locale", "translations"]
