"""Why a keyboard-wedge scan came out wrong, so the kiosk can tell staff what to change. Pure functions.

A USB scanner in keyboard mode types the card's text as keystrokes through the kiosk's keyboard layout and
input method. What goes wrong, and the trace it leaves in the text:

- ``keyboard_layout``: the layout is not the one the scanner assumes (e.g. French AZERTY): the ``|``
  separators vanish or the ID digits come out as ``&é"'(-è_çà``;
- ``alt_codes``: the scanner sends Vietnamese letters as Windows Alt+numpad codes that the kiosk does not
  compose, leaving runs of 3–4 digits inside a name (``Nguy7877n``);
- ``input_method``: a Vietnamese input method (Unikey, EVKey: Telex, VNI or VIQR) rewrote the keystrokes, or
  the scanner emits such sequences for an input method that is off: ``Nu74`` (VNI), ``Nuwx`` (Telex),
  ``Nguye^~n`` (VIQR);
- ``diacritics_lost``: the Vietnamese letters were dropped (``Nu`` for ``Nữ``, a name and an address without
  a single accent). The parser catches ``Nu``; a man's card (``Nam``) passes the parser, so a wedge scan
  whose name and address are both plain ASCII is refused here too: real cards print the address with
  Vietnamese letters.

``diagnose`` is called only for wedge input the parser refused (or found suspicious); it never stores
anything and returns a code and the fragment that gave it away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

AZERTY_DIGITS = frozenset("&é\"'(-è_çà")
MIN_FIELDS = 7
_ALT_CODE = re.compile(r"[^\W\d_]\d{3,4}|\d{3,4}[^\W\d_]")
_VNI = re.compile(r"[aeiouyAEIOUYăâêôơưĂÂÊÔƠƯ][1-9]{1,2}(?!\d)")
_VIQR = re.compile(r"[aeiouyAEIOUYd][\^~`?(+*]|[aeiouyAEIOUY]\.(?=\w)")
_TELEX_SEX = re.compile(r"nu(?:w[sfrxj]?|[sfrxj]w)")
_TELEX_WORD = re.compile(r"aa|aw|ee|oo|ow|uw|dd|w[sfrxj]?$|[aeiouy][sfrxj]$")


@dataclass(frozen=True)
class Garbling:
    code: str
    sample: str


MESSAGES = {
    "keyboard_layout": _l(
        "Kiểu bàn phím của máy kiosk khác với kiểu đầu đọc gõ (ví dụ AZERTY thay vì QWERTY), nên dấu “|” và chữ số "
        "bị đổi (đọc được: “%(sample)s”). Hãy đặt bàn phím của máy kiosk về tiếng Anh (US) hoặc đổi kiểu bàn phím "
        "trong cài đặt đầu đọc."
    ),
    "alt_codes": _l(
        "Đầu đọc gửi chữ tiếng Việt bằng mã Alt (Alt + số) mà máy kiosk không ghép thành chữ (đọc được: "
        "“%(sample)s”). Hãy chuyển đầu đọc sang chế độ cổng COM (USB-COM, UTF-8) hoặc chế độ bàn phím Unicode."
    ),
    "input_method": _l(
        "Bộ gõ tiếng Việt (Unikey/EVKey: Telex, VNI hoặc VIQR) đang đổi các phím của đầu đọc (đọc được: "
        "“%(sample)s”). Hãy tắt bộ gõ tiếng Việt trên máy kiosk (chuyển sang E) hoặc chuyển đầu đọc sang chế độ "
        "cổng COM (USB-COM, UTF-8)."
    ),
    "diacritics_lost": _l(
        "Đầu đọc đánh rơi dấu tiếng Việt (đọc được: “%(sample)s”): nó gõ phím theo bàn phím không có tiếng Việt. "
        "Hãy chuyển đầu đọc sang chế độ cổng COM (USB-COM, UTF-8) hoặc bật chế độ Unicode của đầu đọc."
    ),
}


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def diagnose(text: str) -> Garbling | None:
    """The likeliest cause of a garbled keyboard-wedge scan, or None when the text shows no known trace."""
    text = (text or "").strip("\r\n\x00\ufeff")
    fields = text.split("|")
    head = text[:12]
    if sum(ch in AZERTY_DIGITS for ch in head) >= 6:
        return Garbling("keyboard_layout", _short(head))
    if len(fields) < 3 and len(text) >= 30:
        return Garbling("keyboard_layout", _short(text))
    if len(fields) < MIN_FIELDS:
        return None
    name, sex, address = fields[2], fields[4].strip(), fields[5]
    for field in (name, sex):
        if match := _ALT_CODE.search(field):
            return Garbling("alt_codes", _word_around(field, match.start()))
    for field in (name, sex):
        for pattern in (_VNI, _VIQR):
            if match := pattern.search(field):
                return Garbling("input_method", _word_around(field, match.start()))
    if _TELEX_SEX.fullmatch(sex.casefold()):
        return Garbling("input_method", sex)
    if sex.casefold() == "nu":
        return Garbling("diacritics_lost", sex)
    if name.strip() and address.strip() and name.isascii() and address.isascii():
        words = [w for w in name.casefold().split() if _TELEX_WORD.search(w)]
        if len(words) >= 2:
            return Garbling("input_method", _short(" ".join(words)))
        return Garbling("diacritics_lost", _short(name.strip()))
    return None


def _word_around(field: str, index: int) -> str:
    start = field.rfind(" ", 0, index) + 1
    end = field.find(" ", index)
    return _short(field[start : end if end != -1 else len(field)])


def message(garbling: Garbling) -> str:
    return str(MESSAGES[garbling.code]) % {"sample": garbling.sample}
