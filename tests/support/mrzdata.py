"""Machine-readable zones for tests, written from ICAO Doc 9303 independently of asm/idcard/mrz.py.

``compose(...)`` builds the lines of any format from field values (check digits computed here, with their own
small implementation); ``random_document(rng)`` draws a valid document; ``SPECIMENS`` are Doc 9303's own
examples (the Utopia documents). Pure functions, seeded, reused by the image generator and the bench.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, replace
from datetime import date, timedelta

WIDTH = {"TD1": 30, "TD2": 36, "TD3": 44, "MRVA": 44, "MRVB": 36}


def digit(data: str) -> str:
    """Doc 9303 §4.9: weights 7, 3, 1 repeating; 0–9 as themselves, A–Z as 10–35, < as 0; sum mod 10."""
    total = 0
    for i, char in enumerate(data):
        if char.isdigit():
            value = int(char)
        elif char == "<":
            value = 0
        else:
            value = ord(char) - ord("A") + 10
        total += value * (7, 3, 1)[i % 3]
    return str(total % 10)


def pad(text: str, width: int) -> str:
    if len(text) > width:
        raise ValueError(f"{text!r} is longer than {width}")
    return text + "<" * (width - len(text))


def name_field(surname: str, given: str, width: int) -> str:
    text = surname.replace(" ", "<")
    if given:
        text += "<<" + given.replace(" ", "<")
    return pad(text[:width], width)


@dataclass(frozen=True)
class Document:
    fmt: str  # TD1 | TD2 | TD3 | MRVA | MRVB
    code: str  # "P", "PO", "I", "ID", "V", "AC"…
    issuing: str  # "UTO", "D", "VNM"…
    surname: str
    given: str
    number: str
    nationality: str
    birth: str  # YYMMDD (may hold <)
    sex: str  # M F X <
    expiry: str  # YYMMDD
    optional: str = ""
    optional_2: str = ""  # TD1 only

    def lines(self) -> tuple[str, ...]:
        return compose(self)


def compose(doc: Document) -> tuple[str, ...]:
    """The MRZ lines of ``doc`` (TD1/TD2 numbers over 9 characters overflow into the optional data)."""
    width = WIDTH[doc.fmt]
    head = pad(doc.code, 2) + pad(doc.issuing, 3)
    number_cd = digit(pad(doc.number, 9)) if len(doc.number) <= 9 else digit(doc.number)
    if len(doc.number) <= 9:
        number_part = pad(doc.number, 9) + number_cd
        optional = doc.optional
    else:
        if doc.fmt not in ("TD1", "TD2"):
            raise ValueError("only TD1 and TD2 numbers may be longer than 9 characters")
        number_part = doc.number[:9] + "<"
        optional = doc.number[9:] + number_cd + "<" + doc.optional
    birth = doc.birth + digit(doc.birth)
    expiry = doc.expiry + digit(doc.expiry)
    nationality = pad(doc.nationality, 3)
    if doc.fmt == "TD1":
        line1 = head + number_part + pad(optional, 15)
        line2 = birth + doc.sex + expiry + nationality + pad(doc.optional_2, 11)
        line2 += digit(line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29])
        return line1, line2, name_field(doc.surname, doc.given, 30)
    line1 = head + name_field(doc.surname, doc.given, width - 5)
    line2 = number_part + nationality + birth + doc.sex + expiry
    if doc.fmt == "TD3":
        personal = pad(optional, 14)
        personal_cd = "<" if not optional else digit(personal)
        line2 += personal + personal_cd
        line2 += digit(line2[0:10] + line2[13:20] + line2[21:43])
    elif doc.fmt == "TD2":
        line2 += pad(optional, 7)
        line2 += digit(line2[0:10] + line2[13:20] + line2[21:35])
    else:
        line2 += pad(optional, width - 28)
    return line1, line2


# ICAO Doc 9303 specimens (Part 4 Appendix A, Part 5 Appendix A, Part 6 Appendix A, Part 7 Appendix A).
SPECIMENS: dict[str, tuple[str, ...]] = {
    "TD3": (
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
    ),
    "TD1": (
        "I<UTOD231458907<<<<<<<<<<<<<<<",
        "7408122F1204159UTO<<<<<<<<<<<6",
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
    ),
    "TD2": (
        "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
        "D231458907UTO7408122F1204159<<<<<<<6",
    ),
    "MRVA": (
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
        "L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
    ),
    "MRVB": (
        "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
        "L8988901C4XXX4009078F9612109<<<<<<<<",
    ),
    # TD1 with a 12-character document number continued in the optional data (Doc 9303 Part 5, note j).
    "TD1_LONG_NUMBER": (
        "I<UTOD23145890<7349<<<<<<<<<<<",
        "3407127M9507122UTO<<<<<<<<<<<2",
        "STEVENSON<<PETER<JOHN<<<<<<<<<",
    ),
}

STATES = ("VNM", "KOR", "CHN", "JPN", "USA", "FRA", "D", "GBR", "AUS", "RUS", "THA", "GBN", "XXA", "UNO", "EUE")
SURNAMES = (
    "SMITH", "KIM", "LEE", "NGUYEN", "MULLER", "DUBOIS", "TANAKA", "WANG", "GARCIA", "ROSSI", "VAN DER BERG",
    "O BRIEN", "MACDONALD", "PARK", "ZHANG", "SCHMIDT", "JOHANSSON", "KOWALSKI", "IVANOVA", "DA SILVA",
)  # fmt: skip
GIVEN = (
    "JOHN", "ANNA MARIA", "MIN JUN", "SOPHIE", "HIROSHI", "WEI", "LUCIA", "PETER JOHN", "OLIVIA", "JEAN PIERRE",
    "SEO YEON", "THOMAS", "ELENA", "MARK", "YUKI", "", "BAO", "LIAM", "EMMA GRACE", "ZOE",
)  # fmt: skip


def _yymmdd(value: date) -> str:
    return value.strftime("%y%m%d")


def random_number(rng: random.Random, length: int) -> str:
    """A document number: letters and digits, as many countries print them (leading letters, then digits)."""
    letters = rng.randint(0, min(2, length - 1))
    return "".join(rng.choice(string.ascii_uppercase) for _ in range(letters)) + "".join(
        rng.choice(string.digits) for _ in range(length - letters)
    )


def random_document(rng: random.Random, fmt: str = "TD3", *, today: date = date(2026, 12, 4)) -> Document:
    """A valid document of ``fmt``, born 1940–2020, expiring from 3 years ago to 10 years ahead."""
    born = date(1940, 1, 1) + timedelta(days=rng.randrange((date(2020, 12, 31) - date(1940, 1, 1)).days))
    expires = today + timedelta(days=rng.randrange(-3 * 365, 10 * 365))
    code = {"TD3": "P", "MRVA": "V", "MRVB": "V"}.get(fmt) or rng.choice(("I", "ID", "AC", "IP"))
    if code == "P" and rng.random() < 0.1:
        code = "PO"
    optional = ""
    if fmt == "TD3" and rng.random() < 0.5:
        optional = random_number(rng, rng.randint(6, 14))
    elif fmt in ("MRVA", "MRVB", "TD2", "TD1") and rng.random() < 0.3:
        optional = random_number(rng, rng.randint(2, 7))
    number = random_number(rng, rng.randint(6, 12 if fmt in ("TD1",) else 9))
    if fmt == "TD1" and len(number) > 9:
        optional = optional[: 15 - (len(number) - 9) - 2]
    return Document(
        fmt=fmt,
        code=code,
        issuing=rng.choice(STATES),
        surname=rng.choice(SURNAMES),
        given=rng.choice(GIVEN),
        number=number,
        nationality=rng.choice(STATES),
        birth=_yymmdd(born),
        sex=rng.choice("MFMFX<"),
        expiry=_yymmdd(expires),
        optional=optional,
        optional_2=random_number(rng, rng.randint(1, 11)) if fmt == "TD1" and rng.random() < 0.3 else "",
    )


def with_field(doc: Document, **changes: str) -> Document:
    return replace(doc, **changes)


def digits_agree(lines: tuple[str, ...] | list[str]) -> bool:
    """True when every check digit of the zone agrees (Doc 9303, computed here; fillers allowed where empty)."""
    if len(lines) == 3:
        l1, l2, _ = lines
        if l1[14] == "<" and "<" not in l1[5:14]:
            rest = l1[15:30].split("<", 1)[0]
            if len(rest) < 2 or digit(l1[5:14] + rest[:-1]) != rest[-1]:
                return False
        elif digit(l1[5:14]) != l1[14]:
            return False
        checks = [(l2[0:6], l2[6]), (l2[8:14], l2[14]), (l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])]
    else:
        l1, l2 = lines
        width = len(l2)
        checks = [(l2[13:19], l2[19]), (l2[21:27], l2[27])]
        if width == 36 and l1[0] != "V" and l2[9] == "<" and "<" not in l2[0:9]:
            rest = l2[28:35].split("<", 1)[0]
            if len(rest) < 2 or digit(l2[0:9] + rest[:-1]) != rest[-1]:
                return False
        else:
            checks.append((l2[0:9], l2[9]))
        if width == 44 and l1[0] != "V":
            if not (l2[42] == "<" and set(l2[28:42]) == {"<"}):
                checks.append((l2[28:42], l2[42]))
            checks.append((l2[0:10] + l2[13:20] + l2[21:43], l2[43]))
        elif width == 36 and l1[0] != "V":
            checks.append((l2[0:10] + l2[13:20] + l2[21:35], l2[35]))
    return all(digit(data) == cd for data, cd in checks)
