"""Nationality and issuing-state codes of machine-readable travel documents, with names in vi and en.

An MRZ names states with three letters: ISO 3166-1 alpha-3 (``VNM``, ``KOR``…) plus the codes ICAO Doc 9303
assigns itself. Sources, so nothing here is a hand-kept copy of a country list:

- ISO 3166-1: the ``iso3166`` package (alpha-3 → alpha-2), whose data follows the ISO maintenance agency;
- names: Babel's CLDR territory names (``Locale("vi").territories["DE"]`` = "Đức"), already a dependency;
- ICAO's own codes: ``data/icao_codes.csv``, transcribed from ICAO Doc 9303 (8th edition, 2021), Part 3,
  section 5 ("Three-letter codes"), with our Vietnamese wording. Where CLDR has a name for the same
  entity (EU, UN, Kosovo) that name is used.

``D`` (Germany) is the one one-letter code: in an MRZ it reads ``D<<``; ``normalize_state`` turns it into
``DEU`` so the rest of the platform sees alpha-3 only.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path
from typing import NamedTuple

import iso3166
from babel import Locale

from asm.i18n import normalize_locale


class IcaoCode(NamedTuple):
    name_vi: str
    name_en: str
    territory: str | None  # the CLDR territory to take both names from, when CLDR has the same entity


def _load_icao_codes() -> dict[str, IcaoCode]:
    """ICAO's own codes, data/icao_codes.csv: transcribed from ICAO Doc 9303 (8th edition, 2021), Part 3, section
    5, with our Vietnamese wording; D (Germany, mapped to DEU), the British nationality classes, codes reserved
    at ICAO's request, United Nations documents, other issuing authorities, persons without a defined nationality,
    RKS (printed by Kosovo's own passports since 2008, not in Doc 9303) and UTO (ICAO's specimen state)."""
    with (Path(__file__).parent / "data" / "icao_codes.csv").open(encoding="utf-8", newline="") as f:
        return {
            row["code"]: IcaoCode(row["name_vi"], row["name_en"], row["cldr_territory"] or None)
            for row in csv.DictReader(f)
        }


ICAO_CODES: dict[str, IcaoCode] = _load_icao_codes()
SPECIMEN_STATES: frozenset[str] = frozenset({"UTO"})
# Codes meaning "no state" as a nationality: a person, not a country.
NO_NATIONALITY: frozenset[str] = frozenset({"XXA", "XXB", "XXC", "XXX"})


@functools.cache
def _alpha2_by_alpha3() -> dict[str, str]:
    return {country.alpha3: country.alpha2 for country in iso3166.countries}


@functools.cache
def _territories(language: str) -> dict[str, str]:
    return dict(Locale.parse(language).territories)


def known_codes() -> frozenset[str]:
    """Every code an MRZ may carry as issuing state or nationality (alpha-3 and ICAO's own, with ``D``)."""
    return frozenset(_alpha2_by_alpha3()) | frozenset(ICAO_CODES)


def is_known_state(code: str) -> bool:
    """True for an ISO 3166-1 alpha-3 code or one of ICAO's own (``D``, ``GBD``, ``UNO``, ``XXA``…)."""
    return code in ICAO_CODES or code in _alpha2_by_alpha3()


def normalize_state(code: str) -> str:
    """The code as the platform stores it: fillers removed, ``D`` → ``DEU``; otherwise unchanged."""
    code = code.replace("<", "").strip().upper()
    return "DEU" if code == "D" else code


def alpha2(code: str) -> str | None:
    """ISO 3166-1 alpha-2 of a state code (``VNM`` → ``VN``, ``D`` → ``DE``), None for ICAO's own codes."""
    return _alpha2_by_alpha3().get(normalize_state(code))


def state_name(code: str, locale: str = "vi") -> str | None:
    """The name of a state or authority in Vietnamese (``vi…``) or English (any other locale); None if unknown.

    ISO countries take CLDR's names through Babel ("KOR" → "Hàn Quốc" / "South Korea"); ICAO's own codes
    take ``ICAO_CODES``.
    """
    language = _language(locale)
    code = normalize_state(code)
    special = ICAO_CODES.get(code)
    territory = special[2] if special else _alpha2_by_alpha3().get(code)
    if territory is not None:
        name = _territories(language).get(territory)
        if name:
            return name
    if special:
        return str(getattr(special, f"name_{language}"))  # the CSV has a column per language
    return None


def _language(locale: str) -> str:
    """CLDR's language for a locale: Vietnamese for ``vi…``, English for any other."""
    try:
        return normalize_locale(locale)
    except ValueError:
        return "en"
