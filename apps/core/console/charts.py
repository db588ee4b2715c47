"""Server-rendered SVG charts: coordinates computed here, drawn by the templates.

Colours come from the stylesheet through a class per status (`st-<slug>`), so the charts
need no inline style; every chart has a text table next to it, so nothing is told by colour
alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.text import slugify

from apps.core.states import JobStatus

WIDTH, HEIGHT = 720, 200
LEFT, BOTTOM, TOP = 40, 20, 8


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    rects: list[Rect]
    x_labels: list[Label]
    y_labels: list[Label]
    baseline: float


def status_slug(status: str) -> str:
    return slugify(status)


def stacked_hours(hours: list[datetime], counts: list[dict[str, int]], slots: int = 24) -> BarChart:
    """One stacked bar per hour: jobs per status at the end of that hour. The axis holds the
    whole day (`slots` hours), so the hours still to come are the empty part on the right."""
    plot_w, plot_h = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    peak = max((sum(c.values()) for c in counts), default=0) or 1
    slot = plot_w / max(len(hours), slots, 1)
    rects, x_labels = [], []
    for i, (hour, by_status) in enumerate(zip(hours, counts, strict=True)):
        x, y = LEFT + i * slot + 1, TOP + plot_h
        for status in JobStatus.values:
            n = by_status.get(status, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            title = f"{hour:%H}:00 {status}: {n}"
            rects.append(Rect(round(x, 1), round(y, 2), round(slot - 2, 1), round(h, 2),
                              f"st-{status_slug(status)}", title))  # fmt: skip
    for i in range(0, max(len(hours), slots), 3):
        x = LEFT + i * slot + 1
        x_labels.append(Label(round(x + (slot - 2) / 2, 1), HEIGHT - 5, f"{i % 24:02d}"))
    y_labels = [
        Label(LEFT - 4, TOP + plot_h * (1 - f) + 4, str(round(peak * f))) for f in (0, 0.5, 1)
    ]
    return BarChart(WIDTH, HEIGHT, rects, x_labels, y_labels, TOP + plot_h)


def horizontal_bars(rows: list[tuple[str, float, float]], *, width: int = 360) -> BarChart:
    """One bar per (label, value, maximum): how full each thing is (pools, cache shards)."""
    row_h, label_w = 22, 110
    rects, labels = [], []
    for i, (label, value, maximum) in enumerate(rows):
        y = i * row_h + 4
        share = min(1.0, value / maximum) if maximum else 0.0
        track = width - label_w - 8
        rects.append(
            Rect(label_w, y, track, row_h - 8, "bar-track", f"{label}: {value:g} of {maximum:g}")
        )
        rects.append(Rect(label_w, y, round(track * share, 1), row_h - 8, "bar-fill",
                          f"{label}: {value:g} of {maximum:g}"))  # fmt: skip
        labels.append(Label(label_w - 6, y + row_h - 10, label))
    height = len(rows) * row_h + 8
    return BarChart(width, height, rects, [], labels, height)
