"""Geometry of the dashboard's bar charts, drawn as inline SVG by templates/police/_bars.html (no JS library)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 600, 160
LEFT, BOTTOM, TOP = 34, 22, 8


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


def nice_max(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^k that is at least `value` (and at least 5, so small counts stay readable)."""
    value = max(value, 4)
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
    ticks = [(TOP + plot_h - plot_h * k / 4, top * k // 4) for k in range(5)]
    return Chart(WIDTH, HEIGHT, bars, ticks, TOP + plot_h, LEFT, sum(n for _, n in series))
