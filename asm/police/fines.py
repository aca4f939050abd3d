"""Fine exposure of late or missing stay notifications (pure: no Flask, no database).

Nghị định 282/2025/NĐ-CP, Art. 10 (in force from 15/12/2025, replacing 144/2021): an establishment that fails to
notify stays is fined by the number of guests not notified — 2–4 M VND for 1–3 guests, 4–8 M for 4–8, 8–12 M
for 9 or more. These brackets are for individuals (a household business); an organisation pays twice.

The brackets are data: `DEFAULT_BRACKETS` below, overridable with the setting ``POLICE_FINE_BRACKETS`` (e.g.
``ASM_POLICE_FINE_BRACKETS='[[1, 3, 2000000, 4000000], [4, 8, 4000000, 8000000], [9, null, 8000000, 12000000]]'``)
and ``POLICE_FINE_ORGANISATION_FACTOR``. A report shows an exposure (the range the law allows), not a decision.

How guests are counted: one violation is one notification — the guests recorded together (a group: a head stay
and its members) — that was filed after its deadline or not filed although its deadline passed. Its guest count
is the number of stays of that group that were late or missing. Each violation is priced on its own bracket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from asm.i18n import N_

ORGANISATION_FACTOR = 2
LEGAL_BASIS = N_("Nghị định 282/2025/NĐ-CP, Điều 10")  # a msgid: translated where printed


@dataclass(frozen=True)
class Bracket:
    min_guests: int
    max_guests: int | None  # None: no upper bound
    min_vnd: int
    max_vnd: int

    def covers(self, guests: int) -> bool:
        return guests >= self.min_guests and (self.max_guests is None or guests <= self.max_guests)


DEFAULT_BRACKETS: tuple[Bracket, ...] = (
    Bracket(1, 3, 2_000_000, 4_000_000),
    Bracket(4, 8, 4_000_000, 8_000_000),
    Bracket(9, None, 8_000_000, 12_000_000),
)


@dataclass(frozen=True)
class Exposure:
    violations: int
    guests: int
    min_vnd: int  # individual (household business)
    max_vnd: int
    factor: int = ORGANISATION_FACTOR

    @property
    def organisation_min_vnd(self) -> int:
        return self.min_vnd * self.factor

    @property
    def organisation_max_vnd(self) -> int:
        return self.max_vnd * self.factor


def brackets_from_setting(value: Any) -> tuple[Bracket, ...]:
    """Brackets from a setting: None (the defaults), Bracket objects, or lists [min, max|None, min_vnd, max_vnd]."""
    if value is None:
        return DEFAULT_BRACKETS
    brackets = tuple(b if isinstance(b, Bracket) else Bracket(*b) for b in value)
    check_brackets(brackets)
    return brackets


def check_brackets(brackets: Sequence[Bracket]) -> None:
    """Contiguous from 1 guest, open-ended at the top, each range sane: else ValueError."""
    if not brackets:
        raise ValueError("at least one fine bracket is needed")
    expected = 1
    for i, b in enumerate(brackets):
        if b.min_guests != expected:
            raise ValueError(f"fine bracket {i} starts at {b.min_guests} guests, expected {expected}")
        if b.min_vnd > b.max_vnd or b.min_vnd < 0:
            raise ValueError(f"fine bracket {i} has an invalid amount range")
        if b.max_guests is None:
            if i != len(brackets) - 1:
                raise ValueError("only the last fine bracket may be open-ended")
            return
        if b.max_guests < b.min_guests:
            raise ValueError(f"fine bracket {i} ends before it starts")
        expected = b.max_guests + 1
    raise ValueError("the last fine bracket must be open-ended (max_guests None)")


def bracket_for(guests: int, brackets: Sequence[Bracket] = DEFAULT_BRACKETS) -> Bracket:
    if guests < 1:
        raise ValueError("a violation concerns at least one guest")
    for bracket in brackets:
        if bracket.covers(guests):
            return bracket
    raise ValueError(f"no fine bracket for {guests} guests")


def exposure(
    violation_sizes: Iterable[int],
    brackets: Sequence[Bracket] = DEFAULT_BRACKETS,
    *,
    factor: int = ORGANISATION_FACTOR,
) -> Exposure:
    """Sum the bracket of each violation (its number of guests not notified in time)."""
    count = guests = low = high = 0
    for size in violation_sizes:
        bracket = bracket_for(size, brackets)
        count += 1
        guests += size
        low += bracket.min_vnd
        high += bracket.max_vnd
    return Exposure(violations=count, guests=guests, min_vnd=low, max_vnd=high, factor=factor)


# --- foreigners' temporary-residence declarations (issue 12) ---------------------------------------------------
#
# Failing to declare a foreign guest's temporary residence (Law 47/2014 Art. 33) is a separate offence from failing
# to notify a stay. Press reports of Nghị định 282/2025/NĐ-CP (in force 15/12/2025) say it is now fined by the number
# of foreigners not declared and that organisations pay double, up to 40–60 M VND; the decree's article and the
# lower brackets could not be sourced here. So the brackets below are UNCONFIRMED placeholders (only the top,
# 20–30 M for an individual, follows those reports): settings FOREIGN_FINE_BRACKETS and FOREIGN_FINE_LEGAL_BASIS
# replace them once checked against the decree's text (docs/FOREIGNERS.md). Reports print them marked unconfirmed
# while the setting is left at None.

FOREIGN_LEGAL_BASIS = (
    "Luật 47/2014/QH13 (sửa đổi 2019, 2023), Điều 33; mức phạt: Nghị định 282/2025/NĐ-CP (điều, khoản chưa xác minh)"
)
FOREIGN_DEFAULT_BRACKETS: tuple[Bracket, ...] = (
    Bracket(1, 3, 5_000_000, 10_000_000),
    Bracket(4, 8, 10_000_000, 20_000_000),
    Bracket(9, None, 20_000_000, 30_000_000),
)


def foreign_fine_settings(brackets: Any, basis: str | None) -> tuple[tuple[Bracket, ...], str, bool]:
    """(brackets, legal basis, confirmed) of the foreigners' declaration fines from the two settings: confirmed
    only when the brackets were set."""
    confirmed = brackets is not None
    chosen = brackets_from_setting(brackets) if confirmed else FOREIGN_DEFAULT_BRACKETS
    return chosen, basis or FOREIGN_LEGAL_BASIS, confirmed


def format_vnd(amount: int) -> str:
    """12000000 -> "12.000.000" (Vietnamese thousands separator)."""
    return f"{amount:,}".replace(",", ".")
