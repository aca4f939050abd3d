"""The shared test-vector table (tests/vectors/cccd.json) drives the server's parser here and the browser's
(asm/static/idcard/cccd.js) in tests/js/cccd.test.js, so the two cannot drift. Also: the table holds every case of
the server's own QR tests, and the browser's data file (rules.js) is what asm/idcard makes today."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from asm.idcard import (
    ABROAD_COUNTRY_CODES,
    MESSAGES,
    CardError,
    browser,
    century_sex_digit,
    check_id_number,
    check_old_id,
    decode_qr_bytes,
    find_mojibake,
    normalize_document,
    normalize_name,
    normalize_nationality,
    normalize_text,
    parse_qr_bytes,
    parse_qr_text,
    parse_sex,
    province_name,
)
from asm.idcard.errors import Phrase
from asm.idcard.idnumber import PHRASES, RULE_CMND
from kiosk.wedge import diagnose
from tests.idcard import test_idnumber, test_parse
from tests.kiosk import test_kiosk_wedge

VECTORS_FILE = Path(__file__).resolve().parents[1] / "vectors" / "cccd.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))
TODAY = date.fromisoformat(VECTORS["today"])


def _day(case: dict[str, Any]) -> date:
    return date.fromisoformat(case.get("today", VECTORS["today"]))


def _codes(case: dict[str, Any]) -> frozenset[str]:
    return frozenset(case["country_codes"]) if "country_codes" in case else ABROAD_COUNTRY_CODES


def _birth(case: dict[str, Any]) -> date | None:
    return date.fromisoformat(case["birth_date"]) if case.get("birth_date") else None


def _dict(value: Any) -> Any:
    return value.as_dict() if hasattr(value, "as_dict") else value


CALLS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "parse": lambda c: parse_qr_text(c["text"], today=_day(c), country_codes=_codes(c)),
    "normalize_text": lambda c: normalize_text(c["text"]),
    "parse_sex": lambda c: parse_sex(c["text"]),
    "normalize_name": lambda c: normalize_name(c["text"]),
    "find_mojibake": lambda c: find_mojibake(c["text"]),
    "decode_qr_bytes": lambda c: decode_qr_bytes(bytes.fromhex(c["hex"])),
    "parse_qr_bytes": lambda c: parse_qr_bytes(bytes.fromhex(c["hex"]), today=_day(c)),
    "check_id_number": lambda c: check_id_number(
        c["number"], birth_date=_birth(c), sex=c.get("sex"), country_codes=_codes(c)
    ),
    "century_sex_digit": lambda c: century_sex_digit(c["year"], c["sex"]),
    "check_old_id": lambda c: check_old_id(c["number"]),
    "normalize_document": lambda c: normalize_document(c["doc_type"], c["number"], c["nationality"]),
    "normalize_nationality": lambda c: normalize_nationality(c["value"]),
    "province_name": lambda c: province_name(c["code"]),
}


def error_dict(exc: CardError) -> dict[str, Any]:
    params = dict(exc.params)
    return {"code": exc.code, "field": exc.field, "params": params, "vi": exc.message_vi, "en": exc.message_en}


def outcome(call: Callable[[], Any]) -> dict[str, Any]:
    try:
        return {"expect": _dict(call())}
    except CardError as exc:
        return {"error": error_dict(exc)}


def expected(case: dict[str, Any]) -> dict[str, Any]:
    return {"error": case["error"]} if "error" in case else {"expect": case.get("expect")}


CASES = [(section, case) for section in CALLS for case in VECTORS[section]]


@pytest.mark.parametrize(("section", "case"), CASES, ids=[f"{s}/{c['id']}" for s, c in CASES])
def test_vector(section: str, case: dict[str, Any]) -> None:
    assert outcome(lambda: CALLS[section](case)) == expected(case)


@pytest.mark.parametrize("case", VECTORS["errors"], ids=[c["id"] for c in VECTORS["errors"]])
def test_error_messages(case: dict[str, Any]) -> None:
    # A parameter that is a phrase of the catalogue is translated with the message, as the browser does.
    params = {k: Phrase(v) if v in PHRASES else v for k, v in case["params"].items()}
    error = CardError(case["code"], case["field"], **params)
    assert (error.message_vi, error.message_en) == (case["vi"], case["en"])


@pytest.mark.parametrize("case", VECTORS["wedge"], ids=[c["id"] for c in VECTORS["wedge"]])
def test_wedge_vector(case: dict[str, Any]) -> None:
    found = diagnose(case["text"])
    assert (None if found is None else {"code": found.code, "sample": found.sample}) == case["diagnosis"]
    assert outcome(lambda: parse_qr_text(case["text"], today=TODAY)) == case["parse"]


# --- the table stays complete and the browser's data current ------------------------------------------------


def test_ids_are_unique_and_every_section_has_cases() -> None:
    for section in [*CALLS, "errors", "wedge"]:
        ids = [case["id"] for case in VECTORS[section]]
        assert ids and len(ids) == len(set(ids)), section


def _parametrized(test: Callable[..., None]) -> list[tuple[Any, ...]]:
    (mark,) = [m for m in test.pytestmark if m.name == "parametrize"]  # type: ignore[attr-defined]
    single = isinstance(mark.args[0], str) and "," not in mark.args[0]
    return [(v.values if hasattr(v, "values") else ((v,) if single else v)) for v in mark.args[1]]


def _texts(section: str) -> set[str]:
    return {case["text"] for case in VECTORS[section]}


def test_the_table_holds_every_case_of_the_servers_qr_tests() -> None:
    """A case added to test_parse.py, test_idnumber.py or test_kiosk_wedge.py must be added to the table too."""
    parse_texts = _texts("parse")
    missing = [
        text
        for test in (
            test_parse.test_accepted_variants,
            test_parse.test_refused_variants,
            test_parse.test_first_error_wins_in_documented_order,
        )
        for text, *_ in _parametrized(test)
        if text not in parse_texts
    ]
    missing += [raw for raw, _ in _parametrized(test_parse.test_normalize_text) if raw not in _texts("normalize_text")]
    missing += [raw for raw, _ in _parametrized(test_parse.test_parse_sex) if raw not in _texts("parse_sex")]
    missing += [
        f for (f,) in _parametrized(test_parse.test_find_mojibake_passes_real_text) if f not in _texts("find_mojibake")
    ]
    numbers = {(c["number"], c.get("birth_date"), c.get("sex")) for c in VECTORS["check_id_number"]}
    for number, kwargs, _ in _parametrized(test_idnumber.test_check_id_number_refuses):
        birth = kwargs.get("birth_date")
        key = (number, birth.isoformat() if birth else None, kwargs.get("sex"))
        if key not in numbers:
            missing.append(key)
    for (code,) in _parametrized(test_idnumber.test_every_province_code_is_accepted) + _parametrized(
        test_idnumber.test_every_other_code_below_100_is_refused
    ):
        if (code + "303011829", None, None) not in numbers:
            missing.append(code)
    documents = {(c["doc_type"], c["number"], c["nationality"]) for c in VECTORS["normalize_document"]}
    for args in _parametrized(test_idnumber.test_normalize_document) + _parametrized(
        test_idnumber.test_normalize_document_refuses
    ):
        if tuple(args[:3]) not in documents:
            missing.append(args[:3])
    digits = {(c["year"], c["sex"]) for c in VECTORS["century_sex_digit"]}
    for year, sex, _ in _parametrized(test_idnumber.test_century_sex_digit) + _parametrized(
        test_idnumber.test_century_sex_digit_refuses
    ):
        if (year, sex) not in digits:
            missing.append((year, sex))
    old_ids = {c["number"] for c in VECTORS["check_old_id"]}
    missing += [n for (n,) in _parametrized(test_idnumber.test_old_id_refuses) if n not in old_ids]
    wedge_texts = _texts("wedge")
    missing += [
        text
        for test in (
            test_kiosk_wedge.test_garbled_wedge_input_is_diagnosed,
            test_kiosk_wedge.test_clean_scans_show_no_garbling,
        )
        for text, *_ in _parametrized(test)
        if text not in wedge_texts
    ]
    assert missing == []


def test_every_code_the_browser_raises_is_in_the_table() -> None:
    raised = {case["error"]["code"] for section in CALLS for case in VECTORS[section] if "error" in case}
    assert set(browser.BROWSER_CODES) <= {case["code"] for case in VECTORS["errors"]}
    assert set(browser.BROWSER_CODES) == raised
    assert set(browser.BROWSER_CODES) <= set(MESSAGES)


def test_zbar_mojibake_and_wedge_cases_are_in_the_table() -> None:
    zbar = [case for case in VECTORS["parse"] if case["id"].startswith("zbar-text-mode-")]
    assert len(zbar) >= 5 and all(case["error"]["code"] == "mojibake" for case in zbar)
    assert {case["diagnosis"]["code"] for case in VECTORS["wedge"] if case["diagnosis"]} == {
        "keyboard_layout",
        "alt_codes",
        "input_method",
        "diacritics_lost",
    }


def test_the_browsers_rules_file_is_current() -> None:
    """asm/static/idcard/rules.js is generated from asm/idcard: regenerate with `python -m asm.idcard.browser`."""
    assert browser.RULES_FILE.read_text(encoding="utf-8") == browser.render()


def test_the_rules_file_holds_the_python_tables() -> None:
    text = browser.RULES_FILE.read_text(encoding="utf-8")
    body = json.loads(re.sub(r"^(//.*\n)+export default ", "", text).rstrip().rstrip(";"))
    assert body["provinces"]["034"] == "Thái Bình" and len(body["provinces"]) == 63
    assert body["messages"]["mojibake"][0] == MESSAGES["mojibake"].replace("%(label)s", "{label}").replace(
        "%(sample)s", "{sample}"
    )
    assert body["phrases"][RULE_CMND] == ["CMND gồm 9 chữ số", "CMND: 9 digits"]
    assert any(first <= 0x4E00 and last >= 0x9FFF for first, last in body["suspicious"])  # CJK ideographs
