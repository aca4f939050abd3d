"""ID-number, old CMND, document and error-registry checks (pure functions, no app)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asm.i18n import N_, translations
from asm.idcard import (
    ABROAD_COUNTRY_CODES,
    FIELD_LABELS,
    MESSAGES,
    PROVINCE_CODES,
    CardError,
    century_sex_digit,
    check_id_number,
    check_old_id,
    normalize_document,
    normalize_nationality,
    province_name,
)
from asm.idcard.errors import Phrase

EXAMPLE_ID = "034303011829"  # Thái Bình, female born 2003 (the DOMAIN.md example)


def codes_of(excinfo: pytest.ExceptionInfo[CardError]) -> tuple[str, str | None]:
    return excinfo.value.code, excinfo.value.field


# --- province codes -----------------------------------------------------------------------------------------


def test_province_table_is_the_63_pre_2025_codes() -> None:
    assert len(PROVINCE_CODES) == 63
    assert all(len(code) == 3 and code.isdigit() and code.startswith("0") for code in PROVINCE_CODES)
    assert len(set(PROVINCE_CODES.values())) == 63
    assert min(PROVINCE_CODES) == "001"
    assert max(PROVINCE_CODES) == "096"


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("001", "Hà Nội"),
        ("034", "Thái Bình"),
        ("048", "Đà Nẵng"),
        ("079", "TP Hồ Chí Minh"),
        ("096", "Cà Mau"),
    ],
    ids=["ha-noi", "thai-binh", "da-nang", "hcm", "ca-mau"],
)
def test_province_name(code: str, name: str) -> None:
    assert province_name(code) == name


@pytest.mark.parametrize("code", sorted(PROVINCE_CODES))
def test_every_province_code_is_accepted(code: str) -> None:
    check_id_number(code + "303011829")


@pytest.mark.parametrize("code", [f"{n:03d}" for n in range(100) if f"{n:03d}" not in PROVINCE_CODES])
def test_every_other_code_below_100_is_refused(code: str) -> None:
    with pytest.raises(CardError) as excinfo:
        check_id_number(code + "303011829")
    assert codes_of(excinfo) == ("id_province_code", "id_number")
    assert excinfo.value.params["code"] == code


# --- country codes (births abroad): a parameter, not a silent constant --------------------------------------


def test_default_country_codes_accept_a_birth_abroad() -> None:
    assert "101" in ABROAD_COUNTRY_CODES
    check_id_number("101303011829")


def test_country_codes_can_be_disabled() -> None:
    with pytest.raises(CardError) as excinfo:
        check_id_number("101303011829", country_codes=frozenset())
    assert codes_of(excinfo) == ("id_province_code", "id_number")
    check_id_number(EXAMPLE_ID, country_codes=frozenset())  # provinces stay valid


def test_country_codes_can_be_replaced() -> None:
    check_id_number("704303011829", country_codes=frozenset({"704"}))
    with pytest.raises(CardError):
        check_id_number("704303011829")


# --- digit 4 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "sex", "digit"),
    [
        (1900, "M", "0"),
        (1999, "F", "1"),
        (2000, "M", "2"),
        (2003, "F", "3"),
        (2099, "M", "2"),
        (2100, "F", "5"),
        (2250, "M", "6"),
        (2399, "F", "9"),
    ],
    ids=["1900-M", "1999-F", "2000-M", "2003-F", "2099-M", "2100-F", "2250-M", "2399-F"],
)
def test_century_sex_digit(year: int, sex: str, digit: str) -> None:
    assert century_sex_digit(year, sex) == digit


@pytest.mark.parametrize(
    ("year", "sex", "code"),
    [
        (1899, "M", "birth_date_out_of_range"),
        (2400, "F", "birth_date_out_of_range"),
        (2003, "X", "sex_invalid"),
    ],
    ids=["before-1900", "after-2399", "bad-sex"],
)
def test_century_sex_digit_refuses(year: int, sex: str, code: str) -> None:
    with pytest.raises(CardError) as excinfo:
        century_sex_digit(year, sex)
    assert excinfo.value.code == code


# --- check_id_number ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs"),
    [
        {},
        {"birth_date": date(2003, 3, 21)},
        {"sex": "F"},
        {"birth_date": date(2003, 3, 21), "sex": "F"},
    ],
    ids=["number-only", "with-birth-date", "with-sex", "with-both"],
)
def test_example_id_is_valid(kwargs: dict[str, object]) -> None:
    check_id_number(EXAMPLE_ID, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("number", "kwargs", "code"),
    [
        ("03430301182", {}, "id_number_format"),
        ("0343030118290", {}, "id_number_format"),
        ("03430301182A", {}, "id_number_format"),
        ("", {}, "id_number_format"),
        ("034 303011829", {}, "id_number_format"),
        ("０３４３０３０１１８２９", {}, "id_number_format"),
        ("٠٣٤٣٠٣٠١١٨٢٩", {}, "id_number_format"),
        ("003303011829", {}, "id_province_code"),
        ("097303011829", {}, "id_province_code"),
        (EXAMPLE_ID, {"sex": "M"}, "id_century_sex_mismatch"),
        (EXAMPLE_ID, {"birth_date": date(1993, 3, 21)}, "id_century_sex_mismatch"),
        (EXAMPLE_ID, {"birth_date": date(2003, 3, 21), "sex": "M"}, "id_century_sex_mismatch"),
        (EXAMPLE_ID, {"birth_date": date(2004, 3, 21)}, "id_birth_year_mismatch"),
        (EXAMPLE_ID, {"birth_date": date(2030, 3, 21), "sex": "F"}, "id_birth_year_mismatch"),
        (EXAMPLE_ID, {"birth_date": date(1850, 1, 1)}, "birth_date_out_of_range"),
        (EXAMPLE_ID, {"sex": "Nữ"}, "sex_invalid"),
    ],
    ids=[
        "11-digits",
        "13-digits",
        "letter",
        "empty",
        "inner-space",
        "fullwidth-digits",
        "arabic-indic-digits",
        "province-003",
        "province-097",
        "sex-wrong",
        "century-wrong",
        "sex-wrong-with-date",
        "year-digits-wrong",
        "year-digits-wrong-same-century",
        "birth-before-1900",
        "sex-not-normalised",
    ],
)
def test_check_id_number_refuses(number: str, kwargs: dict[str, object], code: str) -> None:
    with pytest.raises(CardError) as excinfo:
        check_id_number(number, **kwargs)  # type: ignore[arg-type]
    assert excinfo.value.code == code


def test_century_mismatch_names_the_expected_digits() -> None:
    with pytest.raises(CardError) as excinfo:
        check_id_number("034003011829", birth_date=date(2003, 3, 21))
    assert excinfo.value.params == {"digit": "0", "expected": "2/3"}
    with pytest.raises(CardError) as excinfo:
        check_id_number("034003011829", sex="F")
    assert excinfo.value.params["expected"] == "1/3/5/7/9"


valid_ids = st.builds(
    lambda province, birth, sex, tail: (
        province + century_sex_digit(birth.year, sex) + f"{birth.year % 100:02d}" + tail,
        birth,
        sex,
    ),
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2399, 12, 31)),
    st.sampled_from(["M", "F"]),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
)


@settings(deadline=None)
@given(valid_ids)
def test_generated_ids_are_valid(case: tuple[str, date, str]) -> None:
    number, birth, sex = case
    check_id_number(number, birth_date=birth, sex=sex)


@settings(deadline=None)
@given(valid_ids, st.sampled_from([3, 4, 5]), st.integers(min_value=1, max_value=9))
def test_changing_digit_4_5_or_6_is_caught(case: tuple[str, date, str], index: int, shift: int) -> None:
    number, birth, sex = case
    mutated = number[:index] + str((int(number[index]) + shift) % 10) + number[index + 1 :]
    with pytest.raises(CardError) as excinfo:
        check_id_number(mutated, birth_date=birth, sex=sex)
    expected = "id_century_sex_mismatch" if index == 3 else "id_birth_year_mismatch"
    assert codes_of(excinfo) == (expected, "id_number")


# --- old CMND -----------------------------------------------------------------------------------------------


def test_old_id_nine_digits() -> None:
    check_old_id("151234567")


@pytest.mark.parametrize(
    "number",
    ["15123456", "1512345678", "15123456X", "", "151 234 567"],
    ids=["8", "10", "letter", "empty", "spaces"],
)
def test_old_id_refuses(number: str) -> None:
    with pytest.raises(CardError) as excinfo:
        check_old_id(number)
    assert codes_of(excinfo) == ("old_id_format", "old_id_number")


# --- documents ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc_type", "number", "nationality", "expected"),
    [
        ("cccd", EXAMPLE_ID, None, EXAMPLE_ID),
        ("CCCD", " 034 303 011 829 ", "vnm", EXAMPLE_ID),
        ("cmnd", "151234567", None, "151234567"),
        ("cmnd", "151234567", "VNM", "151234567"),
        ("passport", "c1234567", "VNM", "C1234567"),
        ("passport", " P 0123456 ", " vnm ", "P0123456"),
        ("passport", "x12345678", "usa", "X12345678"),
        ("passport", "M12345", "KOR", "M12345"),
        ("passport", "A" * 20, "DEU", "A" * 20),
        ("passport", "12345", "GBD", "12345"),
    ],
    ids=[
        "cccd",
        "cccd-spaces-case",
        "cmnd",
        "cmnd-vnm",
        "vn-passport",
        "vn-passport-spaces",
        "us-passport",
        "kr-passport-5",
        "passport-20",
        "icao-code",
    ],
)
def test_normalize_document(doc_type: str, number: str, nationality: str | None, expected: str) -> None:
    assert normalize_document(doc_type, number, nationality) == expected


@pytest.mark.parametrize(
    ("doc_type", "number", "nationality", "code", "field"),
    [
        ("visa", "123456", "USA", "document_type_invalid", "document_type"),
        ("cccd", "12345", None, "id_number_format", "document_number"),
        ("cccd", "003303011829", None, "id_province_code", "document_number"),
        ("cccd", EXAMPLE_ID, "USA", "document_nationality_mismatch", "nationality"),
        ("cmnd", "15123456", None, "document_number_format", "document_number"),
        ("cmnd", "151234567", "FRA", "document_nationality_mismatch", "nationality"),
        ("passport", "X1234567", None, "nationality_required", "nationality"),
        ("passport", "X1234567", "  ", "nationality_required", "nationality"),
        ("passport", "X1234567", "VN", "nationality_format", "nationality"),
        ("passport", "X1234567", "V1M", "nationality_format", "nationality"),
        ("passport", "12345678", "VNM", "document_number_format", "document_number"),
        ("passport", "C123456", "VNM", "document_number_format", "document_number"),
        ("passport", "AB12", "USA", "document_number_format", "document_number"),
        ("passport", "A" * 21, "USA", "document_number_format", "document_number"),
        ("passport", "AB-12345", "USA", "document_number_format", "document_number"),
        ("passport", "ĐB12345", "USA", "document_number_format", "document_number"),
    ],
    ids=[
        "unknown-type",
        "cccd-short",
        "cccd-province",
        "cccd-foreigner",
        "cmnd-8",
        "cmnd-foreigner",
        "passport-no-nationality",
        "passport-blank-nationality",
        "nationality-2-letters",
        "nationality-digit",
        "vn-passport-no-letter",
        "vn-passport-6-digits",
        "foreign-passport-4",
        "foreign-passport-21",
        "foreign-passport-hyphen",
        "foreign-passport-vietnamese-letter",
    ],
)
def test_normalize_document_refuses(doc_type: str, number: str, nationality: str | None, code: str, field: str) -> None:
    with pytest.raises(CardError) as excinfo:
        normalize_document(doc_type, number, nationality)
    assert codes_of(excinfo) == (code, field)


def test_normalize_nationality() -> None:
    assert normalize_nationality(None) is None
    assert normalize_nationality("") is None
    assert normalize_nationality(" kor ") == "KOR"


# --- the error registry -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_message_is_in_the_catalogue(code: str) -> None:
    """The English comes from asm/translations (tests/web/test_i18n.py checks the placeholders match)."""
    vi = MESSAGES[code]
    en = translations("en").gettext(vi)
    assert vi.strip() and en.strip() and vi != en


def test_codes_are_snake_case() -> None:
    assert all(code.replace("_", "").isalnum() and code == code.lower() for code in MESSAGES)


def test_card_error_messages_and_locale() -> None:
    error = CardError("id_number_format", "id_number", value="123")
    assert isinstance(error, ValueError)
    assert error.message("vi") == error.message_vi == error.message("vi_VN")
    assert error.message("en") == error.message_en == error.message("fr")
    assert "123" in error.message_vi and "123" in error.message_en
    assert "12 chữ số" in error.message_vi and "12 digits" in error.message_en
    assert error.to_dict("vi") == {
        "code": "id_number_format",
        "field": "id_number",
        "message": error.message_vi,
    }
    assert str(error).startswith("id_number_format: ")


def test_phrase_parameters_follow_the_locale() -> None:
    error = CardError("document_number_format", "document_number", value="X", rule=Phrase(N_("CMND gồm 9 chữ số")))
    assert "CMND gồm 9 chữ số" in error.message_vi and "digits" not in error.message_vi
    assert "CMND: 9 digits" in error.message_en and "chữ số" not in error.message_en
    plain = CardError("document_number_format", "document_number", value="X", rule="CMND gồm 9 chữ số")
    assert "CMND gồm 9 chữ số" in plain.message_en  # a plain value is never translated


def test_with_field_keeps_code_and_params() -> None:
    moved = CardError("id_number_format", "id_number", value="1").with_field("document_number")
    assert (moved.code, moved.field, moved.params) == ("id_number_format", "document_number", {"value": "1"})


def test_label_is_localised() -> None:
    error = CardError("mojibake", "sex", sample="盻")
    assert FIELD_LABELS["sex"] in error.message_vi
    assert translations("en").gettext(FIELD_LABELS["sex"]) in error.message_en


@pytest.mark.parametrize(("code", "field"), [("no_such_code", None), ("empty", "no_such_field")], ids=["code", "field"])
def test_unknown_code_or_field_is_a_programming_error(code: str, field: str | None) -> None:
    with pytest.raises(KeyError):
        CardError(code, field)


def test_missing_placeholder_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        CardError("id_number_format", "id_number")
