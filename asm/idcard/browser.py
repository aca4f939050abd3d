"""The rules the browser's own ID-card parser needs, exported from the Python ones so that the two cannot drift.

The kiosk and the desk parse the CCCD/VNeID QR text on the device (``asm/static/idcard/cccd.js``, docs/OFFLINE.md)
with the same rules, error codes and messages as ``asm.idcard.parse``. Everything that parser reads from Python
data lives in one generated data file, ``asm/static/idcard/rules.js`` (an ES module holding one JSON object):

- the province codes and the default country codes of digits 1–3 (``asm.idcard.codes``);
- the vi/en message templates and field labels of every code the browser can raise (``asm.idcard.errors``);
- the limits and the Unicode facts the Python parser takes from ``unicodedata``, ``str`` and ``asm.text`` (the
  name and address rules of every channel), as ``RANGES``: which characters ``find_mojibake`` calls suspicious,
  which are Latin letters and which of those have no case, which are whitespace for ``split()`` and ``strip()``,
  which ``asm.text.collapse`` makes one space, which are never allowed, which an address may hold, which a message
  shows as themselves (``describe``) and which are refused in the extra fields. Computed here from Python's own
  tables (so the browser decides as the server does even where its Unicode version differs), as ranges of code
  points.

Regenerate after a change with ``python -m asm.idcard.browser`` (``make browser-rules``); the test
``tests/idcard/test_vectors.py`` fails while the committed file differs from what this module makes.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from asm import text
from asm.i18n import translations
from asm.idcard.codes import ABROAD_COUNTRY_CODES, PROVINCE_CODES
from asm.idcard.errors import FIELD_LABELS, MESSAGES
from asm.idcard.idnumber import PHRASES
from asm.idcard.parse import _suspicious, hidden_in_extra

RULES_FILE = Path(__file__).resolve().parents[1] / "static" / "idcard" / "rules.js"

# The codes the browser's parser raises (parse_qr_text, decode_qr_bytes, the number and document checks) and the
# fields they point at. Listed, not "all of MESSAGES", so that codes added for other readers (e.g. the MRZ) do not
# make the committed file stale.
BROWSER_CODES: tuple[str, ...] = (
    "empty",
    "too_few_fields",
    "mojibake",
    "diacritics_lost",
    "id_number_format",
    "id_province_code",
    "id_century_sex_mismatch",
    "id_birth_year_mismatch",
    "old_id_format",
    "name_missing",
    "name_invalid",
    "name_too_long",
    "birth_date_invalid",
    "birth_date_out_of_range",
    "birth_date_future",
    "sex_invalid",
    "address_missing",
    "address_invalid",
    "address_too_long",
    "text_invalid",
    "issue_date_invalid",
    "issue_date_before_birth",
    "issue_date_future",
    "document_type_invalid",
    "document_number_format",
    "nationality_required",
    "nationality_format",
    "document_nationality_mismatch",
)
BROWSER_FIELDS: tuple[str | None, ...] = (
    None,
    "id_number",
    "old_id_number",
    "full_name",
    "birth_date",
    "sex",
    "address",
    "issue_date",
    "document_type",
    "document_number",
    "nationality",
)

_SURROGATES = range(0xD800, 0xE000)


def _ranges(predicate: Callable[[str], bool]) -> list[list[int]]:
    """The code points (surrogates left out: JavaScript strings never hold them alone here) where ``predicate``
    holds, as inclusive [first, last] ranges."""
    out: list[list[int]] = []
    for point in range(sys.maxunicode + 1):
        if point in _SURROGATES or not predicate(chr(point)):
            continue
        if out and out[-1][1] == point - 1:
            out[-1][1] = point
        else:
            out.append([point, point])
    return out


# The Unicode facts, each a predicate of Python's, exported as ranges of code points (see the module doc).
RANGES: dict[str, Callable[[str], bool]] = {
    "suspicious": _suspicious,  # find_mojibake
    "latin_letters": text.is_latin_letter,  # the letters of a name and of an address
    # no case in Python's tables: cccd.js leaves them alone even where its newer Unicode gave them a capital
    "caseless_letters": lambda char: text.is_latin_letter(char) and char.lower() == char == char.upper(),
    "whitespace": str.isspace,  # split() and strip() of the numeric fields
    "spaces": lambda char: text._SPACES.fullmatch(char) is not None,  # what text.collapse makes one space
    "forbidden": text.is_forbidden,  # never in any text (surrogates: cccd.js knows them itself)
    "address_chars": text._address_char_ok.__wrapped__,  # the characters of an address
    "shown": lambda char: text.describe(char) == char,  # else a message shows the code point, "U+202E"
    "hidden_in_extras": hidden_in_extra,  # refused in fields 8 and later
}


def _both(msgid: str) -> list[str]:
    """A message of the catalogue in Vietnamese and English, placeholders written ``{name}`` for cccd.js."""
    english = translations("en").gettext(msgid)
    return [re.sub(r"%\((\w+)\)s", r"{\1}", text) for text in (msgid, english)]


def browser_rules() -> dict[str, Any]:
    return {
        "unicode_version": unicodedata.unidata_version,
        "provinces": dict(sorted(PROVINCE_CODES.items())),
        "abroad_country_codes": sorted(ABROAD_COUNTRY_CODES),
        "field_labels": {field or "": _both(FIELD_LABELS[field]) for field in BROWSER_FIELDS},
        "messages": {code: _both(MESSAGES[code]) for code in BROWSER_CODES},
        "phrases": {phrase: _both(phrase) for phrase in PHRASES},
        "limits": {"name_max": text.NAME_MAX, "address_max": text.ADDRESS_MAX},
        **{name: _ranges(predicate) for name, predicate in RANGES.items()},
    }


def _compact(ranges: Iterable[list[int]]) -> str:
    return "[" + ",".join(f"[{a},{b}]" for a, b in ranges) + "]"


def render() -> str:
    """The text of ``rules.js``: a header and one JSON object, its long range lists one line each."""
    rules = browser_rules()
    ranges = {name: rules.pop(name) for name in RANGES}
    body = json.dumps(rules, ensure_ascii=False, indent=2)[:-2]
    for name, value in ranges.items():
        body += f',\n  "{name}": {_compact(value)}'
    return (
        "// GENERATED by `python -m asm.idcard.browser` from asm/idcard and asm/text.py: do not edit.\n"
        "// The data the browser's CCCD parser (cccd.js) shares with the server's; see asm/idcard/browser.py.\n"
        f"export default {body}\n}};\n"
    )


def main() -> None:
    RULES_FILE.write_text(render(), encoding="utf-8")
    print(f"wrote {RULES_FILE}")


if __name__ == "__main__":
    main()
