"""Pure rules: what a garbled keyboard-wedge scan looks like, and what staff are told to change."""

from __future__ import annotations

import pytest
from flask import Flask

from asm.idcard import CardError, parse_qr_text
from kiosk.wedge import Garbling, diagnose, message
from tests.conftest import CARD

MALE = "001090012345||Trần Văn Nam|15061990|Nam|Số 5 Hàng Bạc, Hoàn Kiếm, Hà Nội|01022022"
# The card's digits typed on a French AZERTY layout without Shift: 0 → à, 1 → &, 2 → é, 3 → ", 4 → ', ...
AZERTY = str.maketrans("0123456789", "à&é\"'(-è_ç")


@pytest.mark.parametrize(
    ("text", "code", "sample"),
    [
        pytest.param(CARD.replace("Nữ", "Nu74"), "input_method", "Nu74", id="VNI tone digits"),
        pytest.param(CARD.replace("Nữ", "Nuwx"), "input_method", "Nuwx", id="Telex letters"),
        pytest.param(CARD.replace("Nguyễn", "Nguye^~n"), "input_method", "Nguye^~n", id="VIQR marks"),
        pytest.param(CARD.replace("Nguyễn Thị", "Nguy7877n Th7883"), "alt_codes", "Nguy7877n", id="Alt codes"),
        pytest.param(
            "034303011829||Nguyn Th Hoa|21032003|Nu|Thn Lai n, An Qu, Qunh Ph, Thi Bnh|14082021",
            "diacritics_lost",
            "Nu",
            id="dropped letters",
        ),
        pytest.param(CARD.translate(AZERTY), "keyboard_layout", CARD.translate(AZERTY)[:12], id="AZERTY digits"),
        pytest.param(CARD.replace("|", "¦"), "keyboard_layout", None, id="separator key typed as another char"),
    ],
)
def test_garbled_wedge_input_is_diagnosed(text: str, code: str, sample: str | None) -> None:
    with pytest.raises(CardError):
        parse_qr_text(text)  # the parser refuses each of these: the diagnosis explains why
    found = diagnose(text)
    assert found is not None and found.code == code
    if sample is not None:
        assert found.sample == sample


def test_a_mans_card_without_diacritics_passes_the_parser_but_not_the_wedge_check() -> None:
    ascii_card = "001090012345||Tran Van Nam|15061990|Nam|So 5 Hang Bac, Hoan Kiem, Ha Noi|01022022"
    assert parse_qr_text(ascii_card).full_name == "Tran Van Nam"
    assert diagnose(ascii_card) == Garbling("diacritics_lost", "Tran Van Nam")


def test_telex_rewritten_name_on_a_mans_card() -> None:
    telex = "001090012345||Traaanf Vawn Nam|15061990|Nam|So 5 Hang Bac, Hoan Kiem, Ha Noi|01022022"
    found = diagnose(telex)
    assert found is not None and found.code == "input_method"


@pytest.mark.parametrize("text", [CARD, MALE, CARD + "\r\n", "034303011829||Nguyễn Thị Hoa|21032003|Nữ|x|14082021"])
def test_clean_scans_show_no_garbling(text: str) -> None:
    assert diagnose(text) is None


def test_a_wrong_but_clean_code_is_not_blamed_on_the_scanner() -> None:
    wrong_year = CARD.replace("21032003", "21031999")  # the ID's year digits no longer match: a typo, not garbling
    with pytest.raises(CardError):
        parse_qr_text(wrong_year)
    assert diagnose(wrong_year) is None
    assert diagnose("034303011829|") is None  # a short, truncated read


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("input_method", ("tắt bộ gõ", "cổng COM")),
        ("alt_codes", ("mã Alt", "cổng COM")),
        ("keyboard_layout", ("bàn phím", "US")),
        ("diacritics_lost", ("dấu tiếng Việt", "cổng COM")),
    ],
)
def test_each_message_tells_staff_what_to_change(app: Flask, code: str, words: tuple[str, ...]) -> None:
    with app.test_request_context("/kiosk/"):
        text = message(Garbling(code, "Nu74"))
    assert "Nu74" in text
    for word in words:
        assert word in text
