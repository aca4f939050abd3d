"""MRZ parsing (asm/idcard/mrz.py): ICAO Doc 9303 specimens, every check digit, reader text, OCR correction."""

from __future__ import annotations

import random
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from asm.i18n import translations
from asm.idcard.countries import ICAO_CODES, alpha2, is_known_state, known_codes, normalize_state, state_name
from asm.idcard.errors import CardError
from asm.idcard.mrz import (
    MRZ_FIELD_LABELS,
    MRZ_MESSAGES,
    WARNING_MESSAGES,
    MrzError,
    MrzWarning,
    check_digit,
    find_mrz,
    looks_like_mrz,
    parse_mrz,
    parse_mrz_lines,
)
from tests.support.mrzdata import (
    SPECIMENS,
    WIDTH,
    Document,
    digit,
    digits_agree,
    random_document,
    with_field,
)
from tests.support.qrimages import EXAMPLE_CARD_TEXT

TODAY = date(2026, 12, 4)


def _parse(lines: tuple[str, ...] | list[str], **kw: object) -> object:
    return parse_mrz("\n".join(lines), today=TODAY, **kw)  # type: ignore[arg-type]


def _error(lines: tuple[str, ...] | list[str], **kw: object) -> MrzError:
    with pytest.raises(MrzError) as info:
        _parse(lines, **kw)
    return info.value


# --- ICAO specimens -------------------------------------------------------------------------------------

SPECIMEN_FIELDS = {
    "TD3": ("TD3", "passport", "P", "L898902C3", "UTO", "ZE184226B", date(1974, 8, 12), date(2012, 4, 15)),
    "TD1": ("TD1", "id_card", "I", "D23145890", "UTO", "", date(1974, 8, 12), date(2012, 4, 15)),
    "TD2": ("TD2", "id_card", "I", "D23145890", "UTO", "", date(1974, 8, 12), date(2012, 4, 15)),
    "MRVA": ("MRVA", "visa", "V", "L8988901C", "XXX", "6ZE184226B", date(1940, 9, 7), date(1996, 12, 10)),
    "MRVB": ("MRVB", "visa", "V", "L8988901C", "XXX", "", date(1940, 9, 7), date(1996, 12, 10)),
}


@pytest.mark.parametrize("name", sorted(SPECIMEN_FIELDS))
def test_icao_specimens(name: str) -> None:
    fmt, doc_type, code, number, nationality, optional, born, expires = SPECIMEN_FIELDS[name]
    data = _parse(SPECIMENS[name])
    assert (data.mrz_format, data.doc_type, data.document_code) == (fmt, doc_type, code)
    assert data.document_number == number
    assert data.issuing_state == "UTO"
    assert data.nationality == nationality
    assert (data.surname, data.given_names, data.full_name) == ("ERIKSSON", "ANNA MARIA", "ERIKSSON ANNA MARIA")
    assert data.sex == "F"
    assert (data.birth_date, data.expiry) == (born, expires)
    assert data.optional_data == optional
    assert data.lines == SPECIMENS[name]
    assert data.corrected_fields == ()
    # Old specimens: expired is a warning, not a refusal; Utopia is flagged.
    assert [w.code for w in data.warnings] == ["mrz_expired", "mrz_specimen"]
    assert data.expired


def test_specimen_with_a_long_document_number_continued_in_the_optional_data() -> None:
    data = _parse(SPECIMENS["TD1_LONG_NUMBER"])
    assert data.document_number == "D23145890734"
    assert data.optional_data == ""
    assert (data.surname, data.given_names, data.sex) == ("STEVENSON", "PETER JOHN", "M")
    assert data.birth_date == date(1934, 7, 12)


def test_the_test_composer_rebuilds_every_specimen() -> None:
    """The independent composer used by the property tests agrees with Doc 9303's own examples."""
    assert (
        Document(
            "TD3", "P", "UTO", "ERIKSSON", "ANNA MARIA", "L898902C3", "UTO", "740812", "F", "120415", "ZE184226B"
        ).lines()
        == SPECIMENS["TD3"]
    )
    assert (
        Document("TD1", "I", "UTO", "STEVENSON", "PETER JOHN", "D23145890734", "UTO", "340712", "M", "950712").lines()
        == SPECIMENS["TD1_LONG_NUMBER"]
    )
    assert (
        Document(
            "MRVA", "V", "UTO", "ERIKSSON", "ANNA MARIA", "L8988901C", "XXX", "400907", "F", "961210", "6ZE184226B"
        ).lines()
        == SPECIMENS["MRVA"]
    )
    for lines in SPECIMENS.values():
        assert digits_agree(lines)


def test_check_digit_examples() -> None:
    assert check_digit("L898902C3") == "6"
    assert check_digit("740812") == "2"
    assert check_digit("<<<<<<") == "0"
    assert check_digit("D23145890734") == "9"
    with pytest.raises(KeyError):
        check_digit("a")


def test_as_dict_has_the_qr_cards_keys_and_the_mrz_ones() -> None:
    data = _parse(SPECIMENS["TD3"]).as_dict()
    for key in ("id_number", "old_id_number", "full_name", "birth_date", "sex", "address", "issue_date"):
        assert key in data
    assert data["card_format"] == "mrz_td3"
    assert data["birth_date"] == "1974-08-12" and data["expiry"] == "2012-04-15"
    assert data["doc_type"] == "passport" and data["nationality"] == "UTO" and data["issuing_state"] == "UTO"
    assert data["nationality_name_en"] == "Utopia (ICAO specimen)"
    assert data["warnings"][0]["code"] == "mrz_expired"
    assert data["warnings"][0]["message_vi"] == "Giấy tờ đã hết hạn từ ngày 15/04/2012."


# --- a valid, current passport ---------------------------------------------------------------------------

KOREAN = Document("TD3", "PM", "KOR", "KIM", "MIN JUN", "M12345678", "KOR", "900101", "M", "300101")


def test_a_current_passport_has_no_warning_and_names_its_country() -> None:
    data = _parse(KOREAN.lines())
    assert data.warnings == ()
    assert data.document_code == "PM"
    assert data.expiry == date(2030, 1, 1)
    assert data.birth_date == date(1990, 1, 1)
    assert state_name(data.nationality, "vi") == "Hàn Quốc"
    assert state_name(data.nationality, "en") == "South Korea"
    assert data.as_dict()["nationality_name_vi"] == "Hàn Quốc"


def test_germany_d_becomes_deu() -> None:
    doc = with_field(KOREAN, issuing="D", nationality="D", surname="MUSTERMANN", given="ERIKA")
    data = _parse(doc.lines())
    assert doc.lines()[1][10:13] == "D<<"
    assert (data.issuing_state, data.nationality) == ("DEU", "DEU")
    assert state_name("D", "vi") == "Đức" and alpha2("D") == "DE"


@pytest.mark.parametrize(
    ("code", "vi", "en"),
    [
        ("XXA", "Người không quốc tịch (Công ước 1954)", "Stateless person (1954 Convention)"),
        ("GBN", "Công dân Anh (Hải ngoại)", "British National (Overseas)"),
        ("UNO", "Liên hợp quốc (tổ chức hoặc viên chức)", "United Nations Organization or one of its officials"),
        ("EUE", "Liên Minh Châu Âu", "European Union"),
        ("RKS", "Kosovo", "Kosovo"),
        ("VNM", "Việt Nam", "Vietnam"),
        ("FRA", "Pháp", "France"),
    ],
)
def test_icao_codes_have_names_in_both_languages(code: str, vi: str, en: str) -> None:
    assert is_known_state(code)
    assert (state_name(code, "vi_VN"), state_name(code, "en")) == (vi, en)
    data = _parse(with_field(KOREAN, nationality=code).lines())
    assert data.nationality == code


def test_every_listed_code_is_known_and_named() -> None:
    codes = known_codes()
    assert len(codes) > 270 and {"VNM", "D", "XXX", "UTO", "XDC", "XPO"} <= codes
    for code in codes:
        assert state_name(code, "vi") and state_name(code, "en"), code
    for code, (vi, en, _) in ICAO_CODES.items():
        assert vi and en and normalize_state(code + "<<")[:3] in {code, "DEU"}


def test_unknown_states_are_refused() -> None:
    error = _error(with_field(KOREAN, nationality="ZZZ").lines())
    assert (error.code, error.field) == ("mrz_state_unknown", "nationality")
    assert "ZZZ" in error.message_vi and "ZZZ" in error.message_en
    error = _error(with_field(KOREAN, issuing="QQ").lines())
    assert (error.code, error.field) == ("mrz_state_unknown", "issuing_state")


# --- every check digit -----------------------------------------------------------------------------------


def _bump(line: str, index: int) -> str:
    char = line[index]
    new = str((int(char) + 1) % 10) if char.isdigit() else "1"
    return line[:index] + new + line[index + 1 :]


# (specimen, line, index of the check digit, code, field)
CHECK_DIGITS = [
    ("TD3", 1, 9, "mrz_check_document_number", "document_number"),
    ("TD3", 1, 19, "mrz_check_birth_date", "birth_date"),
    ("TD3", 1, 27, "mrz_check_expiry", "expiry"),
    ("TD3", 1, 42, "mrz_check_optional_data", "optional_data"),
    ("TD3", 1, 43, "mrz_check_composite", "composite"),
    ("TD1", 0, 14, "mrz_check_document_number", "document_number"),
    ("TD1", 1, 6, "mrz_check_birth_date", "birth_date"),
    ("TD1", 1, 14, "mrz_check_expiry", "expiry"),
    ("TD1", 1, 29, "mrz_check_composite", "composite"),
    ("TD1_LONG_NUMBER", 0, 18, "mrz_check_document_number", "document_number"),
    ("TD2", 1, 9, "mrz_check_document_number", "document_number"),
    ("TD2", 1, 19, "mrz_check_birth_date", "birth_date"),
    ("TD2", 1, 27, "mrz_check_expiry", "expiry"),
    ("TD2", 1, 35, "mrz_check_composite", "composite"),
    ("MRVA", 1, 9, "mrz_check_document_number", "document_number"),
    ("MRVA", 1, 19, "mrz_check_birth_date", "birth_date"),
    ("MRVA", 1, 27, "mrz_check_expiry", "expiry"),
    ("MRVB", 1, 9, "mrz_check_document_number", "document_number"),
    ("MRVB", 1, 19, "mrz_check_birth_date", "birth_date"),
    ("MRVB", 1, 27, "mrz_check_expiry", "expiry"),
]


@pytest.mark.parametrize(("name", "line", "index", "code", "field"), CHECK_DIGITS)
def test_each_corrupted_check_digit_is_refused_with_its_code(
    name: str, line: int, index: int, code: str, field: str
) -> None:
    lines = list(SPECIMENS[name])
    lines[line] = _bump(lines[line], index)
    error = _error(lines)
    assert (error.code, error.field) == (code, field)
    assert "check digit" in error.message_en and "Chữ số kiểm tra" in error.message_vi
    # From OCR, with no confusable character in doubt, the same refusal.
    error = _error(lines, ocr=True, uncertain=frozenset())
    assert (error.code, error.field) == (code, field)


def test_a_changed_data_character_is_refused_by_its_field_digit() -> None:
    lines = list(SPECIMENS["TD3"])
    lines[1] = lines[1][:14] + "5" + lines[1][15:]  # birth 740812 -> 750812
    error = _error(lines)
    assert error.code == "mrz_check_birth_date"
    assert "computed" in error.message_en


def test_an_empty_personal_number_may_have_a_filler_check_digit() -> None:
    lines = KOREAN.lines()
    assert lines[1][28:43] == "<" * 15
    assert _parse(lines).optional_data == ""
    zero = lines[1][:42] + "0" + lines[1][43:]
    zero = zero[:43] + digit(zero[0:10] + zero[13:20] + zero[21:43])
    assert _parse([lines[0], zero]).optional_data == ""


# --- other refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "mrz_empty"),
        (" \r\n\ufeff\x00 ", "mrz_empty"),
        ("P<UTOERIKSSON", "mrz_format"),
        (SPECIMENS["TD3"][0] + "\n" + SPECIMENS["TD3"][1][:-1], "mrz_format"),
        ("\n".join([*SPECIMENS["TD3"], SPECIMENS["TD3"][1]]), "mrz_format"),
        (EXAMPLE_CARD_TEXT, "mrz_format"),
        (SPECIMENS["TD3"][0].replace("ANNA", "ANNÄ") + "\n" + SPECIMENS["TD3"][1], "mrz_character"),
        (SPECIMENS["TD3"][0] + "\n" + SPECIMENS["TD3"][1].replace("UTO", "U-O"), "mrz_character"),
        ("X" + SPECIMENS["TD3"][0][1:] + "\n" + SPECIMENS["TD3"][1], "mrz_document_code"),
        ("I" + SPECIMENS["TD3"][0][1:] + "\n" + SPECIMENS["TD3"][1], "mrz_document_code"),
    ],
)
def test_refusals(text: str, code: str) -> None:
    with pytest.raises(MrzError) as info:
        parse_mrz(text, today=TODAY)
    assert info.value.code == code
    assert info.value.message_vi and info.value.message_en


def test_a_bad_character_names_its_place() -> None:
    error = _error([SPECIMENS["TD3"][0], SPECIMENS["TD3"][1].replace("UTO", "U-O")])
    assert error.params == {"char": "-", "line": 2, "position": 12}
    assert "line 2, position 12" in error.message_en and "dòng 2, vị trí 12" in error.message_vi


def test_format_error_says_what_was_read() -> None:
    error = _error(["P<UTO", "L898"])
    assert error.message_en.endswith("; read 2 lines (5 + 4 characters).")
    assert error.message_vi.endswith("; đọc được 2 dòng (5 + 4 ký tự).")
    assert "dòng" not in error.message_en and "lines" not in error.message_vi  # each in its own language only


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"birth": "741332"}, "mrz_birth_date_invalid", "birth_date"),
        ({"birth": "7408<2"}, "mrz_birth_date_invalid", "birth_date"),
        ({"expiry": "301301"}, "mrz_expiry_invalid", "expiry"),
        ({"expiry": "<<<<01"}, "mrz_expiry_invalid", "expiry"),
        ({"birth": "250101", "expiry": "200101"}, "mrz_expiry_before_birth", "expiry"),
        ({"sex": "Y"}, "mrz_sex_invalid", "sex"),
        ({"surname": "", "given": ""}, "mrz_name_missing", "full_name"),
        ({"surname": "K1M"}, "mrz_name_invalid", "full_name"),
        ({"number": ""}, "mrz_document_number_missing", "document_number"),
    ],
)
def test_field_refusals(changes: dict[str, str], code: str, field: str) -> None:
    error = _error(with_field(KOREAN, **changes).lines())
    assert (error.code, error.field) == (code, field)
    assert isinstance(error, CardError)  # one handler catches QR and MRZ errors alike
    assert error.to_dict("vi")["message"] == error.message_vi


# --- dates ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "expiry", "today", "born", "expires"),
    [
        ("900101", "300101", date(2026, 12, 4), date(1990, 1, 1), date(2030, 1, 1)),
        ("261204", "361203", date(2026, 12, 4), date(2026, 12, 4), date(2036, 12, 3)),  # born today
        ("261205", "361204", date(2026, 12, 4), date(1926, 12, 5), date(2036, 12, 4)),  # tomorrow: last century
        ("000229", "100228", date(2026, 12, 4), date(2000, 2, 29), date(2010, 2, 28)),
        ("991231", "991231", date(2060, 1, 1), date(1999, 12, 31), date(2099, 12, 31)),
        ("050505", "770101", date(2026, 12, 4), date(2005, 5, 5), date(2077, 1, 1)),  # 50 years ahead at most
        ("050505", "761203", date(2026, 12, 4), date(2005, 5, 5), date(2076, 12, 3)),
    ],
)
def test_two_digit_years(birth: str, expiry: str, today: date, born: date, expires: date) -> None:
    lines = with_field(KOREAN, birth=birth, expiry=expiry).lines()
    if expires > date(2076, 12, 3) and today == TODAY:
        # more than 50 years ahead of today reads as the last century, before the birth
        with pytest.raises(MrzError) as info:
            parse_mrz_lines(lines, today=today)
        assert info.value.code == "mrz_expiry_before_birth"
        return
    data = parse_mrz_lines(lines, today=today)
    assert (data.birth_date, data.expiry) == (born, expires)


def test_expired_yesterday_is_a_warning_and_today_is_valid() -> None:
    expired = _parse(with_field(KOREAN, expiry="261203").lines())
    assert expired.expired and expired.warnings[0].message_en == "The document expired on 03/12/2026."
    assert not _parse(with_field(KOREAN, expiry="261204").lines()).expired


def test_unknown_birth_date_is_a_warning() -> None:
    data = _parse(with_field(KOREAN, birth="<<<<<<").lines())
    assert data.birth_date is None
    assert [w.code for w in data.warnings] == ["mrz_birth_date_unknown"]
    data = _parse(with_field(KOREAN, birth="74<<<<").lines())
    assert data.birth_date is None


def test_unknown_expiry_is_a_warning() -> None:
    data = _parse(with_field(KOREAN, expiry="<<<<<<").lines())
    assert data.expiry is None
    assert [w.code for w in data.warnings] == ["mrz_expiry_unknown"]


# --- names and sex -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("surname", "given", "expected"),
    [
        ("VAN DER BERG", "JAN", ("VAN DER BERG", "JAN")),
        ("O BRIEN", "", ("O BRIEN", "")),
        ("NGUYEN", "VAN AN", ("NGUYEN", "VAN AN")),
    ],
)
def test_primary_and_secondary_identifiers(surname: str, given: str, expected: tuple[str, str]) -> None:
    data = _parse(with_field(KOREAN, surname=surname, given=given).lines())
    assert (data.surname, data.given_names) == expected
    assert data.full_name == " ".join(p for p in expected if p)


def test_a_full_name_field_may_be_truncated() -> None:
    doc = with_field(KOREAN, surname="WOLFESCHLEGELSTEINHAUSEN", given="HUBERT BLAINE CHARLES")
    data = _parse(doc.lines())
    assert doc.lines()[0][-1] != "<"
    assert [w.code for w in data.warnings] == ["mrz_name_truncated"]
    assert data.surname == "WOLFESCHLEGELSTEINHAUSEN"


@pytest.mark.parametrize(("char", "sex"), [("M", "M"), ("F", "F"), ("X", None), ("<", None)])
def test_sex(char: str, sex: str | None) -> None:
    assert _parse(with_field(KOREAN, sex=char).lines()).sex == sex


def test_vietnamese_passport_gives_the_personal_id_number() -> None:
    doc = Document("TD3", "P", "VNM", "NGUYEN", "THI HOA", "C1234567", "VNM", "030321", "F", "310320", "034303011829")
    data = _parse(doc.lines())
    assert data.id_number == "034303011829"
    assert data.as_dict()["id_number"] == "034303011829"
    assert data.nationality == "VNM" and state_name("VNM", "vi") == "Việt Nam"
    # The same number on a Korean passport, or a number that disagrees with the birth year, is not taken.
    assert _parse(with_field(doc, issuing="KOR").lines()).id_number is None
    assert _parse(with_field(doc, birth="040321").lines()).id_number is None


# --- reader text -----------------------------------------------------------------------------------------------

TD3_TEXT = "\n".join(SPECIMENS["TD3"])


@pytest.mark.parametrize(
    "text",
    [
        TD3_TEXT,
        TD3_TEXT.replace("\n", "\r\n") + "\r\n",
        TD3_TEXT.replace("\n", "\r") + "\r",
        "".join(SPECIMENS["TD3"]),  # run together: 88 characters
        "\ufeff  " + TD3_TEXT + " \r\x00",
        "\x02" + TD3_TEXT + "\x03\r\n",
        "\n\n" + TD3_TEXT.replace("\n", "\n\n") + "\n\n",
        TD3_TEXT.lower(),  # a keyboard wedge with Caps Lock on
    ],
)
def test_reader_text_variants(text: str) -> None:
    assert find_mrz(text) == SPECIMENS["TD3"]
    assert looks_like_mrz(text)
    assert parse_mrz(text, today=TODAY).document_number == "L898902C3"


@pytest.mark.parametrize("name", ["TD1", "TD2", "MRVB", "TD1_LONG_NUMBER"])
def test_run_together_other_formats(name: str) -> None:
    text = "".join(SPECIMENS[name])
    assert len(text) in (72, 90)
    assert find_mrz(text) == SPECIMENS[name]
    assert parse_mrz(text, today=TODAY).lines == SPECIMENS[name]


def test_a_cccd_qr_text_is_not_an_mrz() -> None:
    assert not looks_like_mrz(EXAMPLE_CARD_TEXT)
    assert find_mrz(EXAMPLE_CARD_TEXT) is None
    assert not looks_like_mrz("")
    assert not looks_like_mrz("X" * 88)  # right length, no fillers


# --- OCR correction ---------------------------------------------------------------------------------------------


def test_ocr_letters_in_numeric_fields_are_corrected() -> None:
    lines = list(SPECIMENS["TD3"])
    # birth 740812 read as 74O8I2, check digit 2 read as Z, expiry 120415 read as I2O4I5
    lines[1] = lines[1][:13] + "74O8I2Z" + "F" + "I2O4I5" + lines[1][27:]
    with pytest.raises(MrzError):
        _parse(lines)  # a reader's text is never corrected
    data = _parse(lines, ocr=True, uncertain=frozenset())
    assert data.lines == SPECIMENS["TD3"]
    assert data.corrected_fields == ("birth_date", "expiry")
    assert data.warnings[-1].code == "mrz_ocr_corrected"
    assert "date of birth, expiry date" in data.warnings[-1].message_en


def test_ocr_digits_in_state_codes_are_corrected() -> None:
    lines = [KOREAN.lines()[0].replace("KOR", "K0R"), KOREAN.lines()[1].replace("KOR", "K0R")]
    data = _parse(lines, ocr=True, uncertain=frozenset())
    assert (data.issuing_state, data.nationality) == ("KOR", "KOR")
    assert data.corrected_fields == ("issuing_state", "nationality")


def test_ocr_one_confusion_in_a_document_number_is_corrected_when_only_one_reading_agrees() -> None:
    doc = with_field(KOREAN, number="M7734660")  # 7, 3, 4, 6: no confusable character but the 0
    lines = list(doc.lines())
    lines[1] = lines[1].replace("M7734660", "M773466O")
    data = _parse(lines, ocr=True, uncertain=frozenset({(1, 7)}))
    assert data.document_number == "M7734660"
    assert data.corrected_fields == ("document_number",)


def test_ocr_a_read_that_agrees_is_refused_when_another_reading_would_agree_too() -> None:
    """4O9O76 and 409076 keep the same check digit (24 × 3 + 24 × 7 = 240): an OCR must not pick one."""
    doc = with_field(KOREAN, number="409076")
    lines = [doc.lines()[0], doc.lines()[1].replace("409076", "4O9O76")]
    assert check_digit("4O9O76<<<") == check_digit("409076<<<")
    error = _error(lines, ocr=True)
    assert (error.code, error.field) == ("mrz_ocr_ambiguous", "document_number")
    assert "O/0" in error.message_en and "O/0" in error.message_vi
    # An OCR sure of those two characters (not in ``uncertain``) has its read taken as it is.
    assert _parse(lines, ocr=True, uncertain=frozenset()).document_number == "4O9O76"


def test_ocr_correction_refuses_when_several_readings_agree() -> None:
    """Visa numbers have no composite digit: with many 0/O, 1/I, 8/B in play, several readings pass."""
    lines = list(SPECIMENS["MRVA"])
    lines[1] = lines[1].replace("L8988901C", "L89889OIC")
    error = _error(lines, ocr=True)
    assert error.code in ("mrz_check_document_number", "mrz_ocr_ambiguous")


def test_ocr_never_corrects_names() -> None:
    lines = [SPECIMENS["TD3"][0].replace("ANNA", "ANNA".replace("A", "4", 1)), SPECIMENS["TD3"][1]]
    error = _error(lines, ocr=True, uncertain=frozenset())
    assert (error.code, error.params["char"]) == ("mrz_name_invalid", "4")


# --- messages -----------------------------------------------------------------------------------------------------


def test_every_message_and_label_is_in_the_english_catalogue() -> None:
    english = translations("en")
    for table in (MRZ_MESSAGES, WARNING_MESSAGES, MRZ_FIELD_LABELS):
        for key, msgid in table.items():
            assert english.gettext(msgid) != msgid, key  # translated (the catalogue's placeholders are tested apart)
    assert MrzWarning("mrz_specimen").message("vi_VN").startswith("Đây là")
    with pytest.raises(KeyError):
        MrzError("no_such_code")
    with pytest.raises(KeyError):
        MrzError("mrz_empty", "address")  # a QR field, not an MRZ one


def test_mrz_error_keeps_its_kind_when_repointed() -> None:
    error = MrzError("mrz_check_expiry", "expiry", found="1", expected="2").with_field("birth_date")
    assert isinstance(error, MrzError) and error.field == "birth_date"
    assert "date of birth" in error.message_en


# --- properties -----------------------------------------------------------------------------------------------------

FORMATS = sorted(WIDTH)


@st.composite
def documents(draw: st.DrawFn) -> Document:
    fmt = draw(st.sampled_from(FORMATS))
    return random_document(random.Random(draw(st.integers(0, 2**32))), fmt, today=TODAY)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_every_valid_generated_mrz_round_trips(doc: Document) -> None:
    lines = doc.lines()
    for ocr in (False, True):
        data = parse_mrz_lines(lines, today=TODAY, ocr=ocr, uncertain=frozenset() if ocr else None)
        assert data.lines == lines
        assert data.corrected_fields == ()
        assert data.document_number == doc.number
        assert data.mrz_format == doc.fmt
        assert data.issuing_state == normalize_state(doc.issuing)
        assert data.nationality == normalize_state(doc.nationality)
        assert data.surname == doc.surname
        assert data.given_names == doc.given
        assert data.sex == (doc.sex if doc.sex in "MF" else None)
        assert data.birth_date is not None and data.birth_date.strftime("%y%m%d") == doc.birth
        assert data.expiry is not None and data.expiry.strftime("%y%m%d") == doc.expiry
        assert data.optional_data == doc.optional
        assert data.optional_data_2 == doc.optional_2
        assert data.expired == (data.expiry < TODAY)
    # Run together, it is the same zone.
    assert parse_mrz("".join(lines), today=TODAY).lines == lines


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_a_string_whose_check_digits_fail_is_never_accepted(doc: Document, data: st.DataObject) -> None:
    lines = list(doc.lines())
    for _ in range(data.draw(st.integers(1, 3))):
        row = data.draw(st.integers(0, len(lines) - 1))
        col = data.draw(st.integers(0, len(lines[row]) - 1))
        lines[row] = lines[row][:col] + data.draw(st.sampled_from(_ALPHABET)) + lines[row][col + 1 :]
    assume(not digits_agree(lines))
    with pytest.raises(MrzError):
        parse_mrz_lines(lines, today=TODAY)


_CONFUSABLE = {"0": "O", "O": "0", "1": "I", "I": "1", "5": "S", "S": "5", "8": "B", "B": "8", "2": "Z", "Z": "2"}


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_ocr_correction_only_ever_returns_a_zone_whose_digits_agree(doc: Document, data: st.DataObject) -> None:
    """Whatever OCR confusions and other damage a read has, an accepted read has all its digits agreeing and
    differs from what was read only by confusable swaps; and a read with nothing but confusions in numeric or
    code fields comes back as the original."""
    original = doc.lines()
    lines = list(original)
    for _ in range(data.draw(st.integers(1, 4))):
        row = data.draw(st.integers(0, len(lines) - 1))
        col = data.draw(st.integers(0, len(lines[row]) - 1))
        old = lines[row][col]
        new = _CONFUSABLE.get(old, old) if data.draw(st.booleans()) else data.draw(st.sampled_from(_ALPHABET))
        lines[row] = lines[row][:col] + new + lines[row][col + 1 :]
    try:
        result = parse_mrz_lines(lines, today=TODAY, ocr=True)
    except MrzError:
        return
    assert digits_agree(result.lines)
    for read, accepted in zip(lines, result.lines, strict=True):
        for a, b in zip(read, accepted, strict=True):
            assert a == b or _CONFUSABLE.get(a) == b
