"""Nationality and issuing-state codes of machine-readable travel documents, with names in vi and en.

An MRZ names states with three letters: ISO 3166-1 alpha-3 (``VNM``, ``KOR``…) plus the codes ICAO Doc 9303
assigns itself. Sources, so nothing here is a hand-kept copy of a country list:

- ISO 3166-1: the ``iso3166`` package (alpha-3 → alpha-2), whose data follows the ISO maintenance agency;
- names: Babel's CLDR territory names (``Locale("vi").territories["DE"]`` = "Đức"), already a dependency;
- ICAO's own codes: ``ICAO_CODES`` below, transcribed from ICAO Doc 9303 (8th edition, 2021), Part 3,
  section 5 ("Three-letter codes"), with our Vietnamese wording. Where CLDR has a name for the same
  entity (EU, UN, Kosovo) that name is used.

``D`` (Germany) is the one one-letter code: in an MRZ it reads ``D<<``; ``normalize_state`` turns it into
``DEU`` so the rest of the platform sees alpha-3 only.
"""

from __future__ import annotations

import functools

import iso3166
from babel import Locale

# code -> (Vietnamese name, English name, CLDR territory to take both names from, or None)
ICAO_CODES: dict[str, tuple[str, str, str | None]] = {
    # Germany prints "D" (Doc 9303 Part 3 §5, note); normalize_state maps it to DEU.
    "D": ("Đức", "Germany", "DE"),
    # British nationality classes (Part 3 §5.1 b).
    "GBD": ("Công dân Lãnh thổ Hải ngoại thuộc Anh", "British Overseas Territories Citizen", None),
    "GBN": ("Công dân Anh (Hải ngoại)", "British National (Overseas)", None),
    "GBO": ("Công dân Hải ngoại Anh", "British Overseas Citizen", None),
    "GBP": ("Người được Anh bảo hộ", "British Protected Person", None),
    "GBS": ("Thần dân Anh", "British Subject", None),
    # Reserved by the ISO 3166 maintenance agency at ICAO's request.
    "EUE": ("Liên minh Châu Âu", "European Union", "EU"),
    # United Nations travel documents.
    "UNO": ("Liên hợp quốc (tổ chức hoặc viên chức)", "United Nations Organization or one of its officials", None),
    "UNA": (
        "Cơ quan chuyên môn của Liên hợp quốc (hoặc viên chức)",
        "Specialized agency of the United Nations or one of its officials",
        None,
    ),
    "UNK": (
        "Cư dân Kosovo được UNMIK cấp giấy tờ đi lại",
        "Resident of Kosovo with a travel document issued by UNMIK",
        None,
    ),
    # Other issuing authorities.
    "XBA": ("Ngân hàng Phát triển Châu Phi", "African Development Bank", None),
    "XIM": ("Ngân hàng Xuất nhập khẩu Châu Phi", "African Export-Import Bank", None),
    "XCC": ("Cộng đồng Caribe (CARICOM)", "Caribbean Community (CARICOM)", None),
    "XCE": ("Hội đồng Châu Âu", "Council of Europe", None),
    "XCO": (
        "Thị trường chung Đông và Nam Phi (COMESA)",
        "Common Market for Eastern and Southern Africa (COMESA)",
        None,
    ),
    "XDC": ("Cộng đồng Phát triển Nam Phi (SADC)", "Southern African Development Community", None),
    "XEC": ("Cộng đồng Kinh tế các quốc gia Tây Phi (ECOWAS)", "Economic Community of West African States", None),
    "XES": ("Tổ chức các quốc gia Đông Caribe (OECS)", "Organisation of Eastern Caribbean States", None),
    "XMP": ("Nghị viện Địa Trung Hải (PAM)", "Parliamentary Assembly of the Mediterranean", None),
    "XOM": ("Dòng tu Hiệp sĩ Malta", "Sovereign Military Order of Malta", None),
    "XPO": (
        "Tổ chức Cảnh sát Hình sự Quốc tế (INTERPOL)",
        "International Criminal Police Organization (INTERPOL)",
        None,
    ),
    # Persons without a defined nationality.
    "XXA": ("Người không quốc tịch (Công ước 1954)", "Stateless person (1954 Convention)", None),
    "XXB": ("Người tị nạn (Công ước 1951)", "Refugee (1951 Convention)", None),
    "XXC": ("Người tị nạn (ngoài diện XXB)", "Refugee, other than under XXB", None),
    "XXX": ("Quốc tịch không xác định", "Unspecified nationality", None),
    # Not in Doc 9303, but printed by the Republic of Kosovo's own passports since 2008.
    "RKS": ("Kosovo", "Kosovo", "XK"),
    # Utopia, the imaginary state of every ICAO specimen: accepted so specimens parse, flagged as such.
    "UTO": ("Utopia (mẫu ICAO)", "Utopia (ICAO specimen)", None),
}
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
    language = "vi" if locale.lower().startswith("vi") else "en"
    code = normalize_state(code)
    special = ICAO_CODES.get(code)
    territory = special[2] if special else _alpha2_by_alpha3().get(code)
    if territory is not None:
        name = _territories(language).get(territory)
        if name:
            return name
    if special:
        return special[0] if language == "vi" else special[1]
    return None
