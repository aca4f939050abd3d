"""Geometry of the dashboard's bar charts, drawn as inline SVG by templates/police/_bars.html (no JS library).

The drawing is narrow (360 units) so that its axis text (TICK_SIZE units) is at least 12 CSS px wherever it is shown:
the SVG is never drawn narrower than about 340 px (a phone) and CSS caps its width on wide screens (police.css).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 360, 170
LEFT, BOTTOM, TOP = 30, 22, 10
TICK_SIZE = 13  # font size of the axis text, in drawing units
DIVISIONS = 5  # horizontal grid lines above the axis; nice_max() values divide by it into whole numbers


@dataclass(frozen=True)
class Bar:
    day: date
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (y, value) of the horizontal grid lines
    base: float  # y of the axis
    left: int
    total: int
    tick_size: int = TICK_SIZE


def nice_max(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^k that is at least `value` (and at least 5, so small counts stay readable)."""
    value = max(value, 5)
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= value:
                return step * scale
        scale *= 10


def bar_chart(series: Sequence[tuple[date, int]]) -> Chart:
    top = nice_max(max((n for _, n in series), default=0))
    plot_h = HEIGHT - BOTTOM - TOP
    plot_w = WIDTH - LEFT - 4
    slot = plot_w / max(len(series), 1)
    bars = []
    for i, (day, n) in enumerate(series):
        h = plot_h * n / top
        bars.append(Bar(day, n, LEFT + i * slot + slot * 0.15, TOP + plot_h - h, slot * 0.7, h))
    ticks = [(TOP + plot_h - plot_h * k / DIVISIONS, top * k // DIVISIONS) for k in range(DIVISIONS + 1)]
    return Chart(WIDTH, HEIGHT, bars, ticks, TOP + plot_h, LEFT, sum(n for _, n in series), TICK_SIZE)
