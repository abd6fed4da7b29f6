"""Horizontal bar charts as inline SVG (no JavaScript): one bar per breakdown key plus the total, drawn against
the target band. Accessible: role="img", an aria-label, <title> and <desc>; the table next to it holds the data."""
from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

from reports import format as fmt

WIDTH, LABEL_W, VALUE_W = 640, 170, 100
PLOT_W = WIDTH - LABEL_W - VALUE_W
TOP, ROW_H, BAR_H, BOTTOM = 30, 22, 14, 26
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'
BAR, TOTAL_BAR, BAND, BAND_EDGE, INK = "#0066cc", "#003366", "#d7eedb", "#1b5e20", "#1a1a1a"


@dataclass(frozen=True)
class Bar:
    label: str
    cell: dict  # {"valore","n","soppresso"}
    total: bool = False


@dataclass(frozen=True)
class Chart:
    ident: str
    title: str
    unit: str
    bars: list[Bar]
    low: float
    high: float
    threshold: int
    projection: float | None = None

    @property
    def scale_max(self) -> float:
        values = [b.cell["valore"] for b in self.bars if b.cell.get("valore") is not None]
        top = max([*values, self.high, self.projection or 0, 0])
        return 100.0 if self.unit == "pct" and top <= 100 else nice_ceiling(top)

    def x(self, value: float) -> float:
        return LABEL_W + PLOT_W * min(value, self.scale_max) / self.scale_max

    @property
    def height(self) -> int:
        return TOP + ROW_H * len(self.bars) + BOTTOM


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k not below value (an axis end that reads well)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def bar_chart(chart: Chart) -> Markup:
    title, desc = chart_title(chart), chart_description(chart)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="grafico" role="img" width="{WIDTH}" '
        f'height="{chart.height}" viewBox="0 0 {WIDTH} {chart.height}" aria-label="{escape(title)}" '
        f'aria-describedby="{chart.ident}-desc">',
        f'<title id="{chart.ident}-title">{escape(title)}</title>',
        f'<desc id="{chart.ident}-desc">{escape(desc)}</desc>',
        _band(chart), *_axis(chart),
        *(svg for i, bar in enumerate(chart.bars) for svg in _bar(chart, bar, i)),
        _projection(chart), "</svg>",
    ]
    return Markup("\n".join(p for p in parts if p))


def chart_title(chart: Chart) -> str:
    total = next((b for b in chart.bars if b.total), None)
    shown = fmt.cell(total.cell, chart.unit, chart.threshold) if total else fmt.MISSING
    return (f"Grafico: {chart.title}. Totale {shown} rispetto al range di valutazione "
            f"{fmt.band(chart.low, chart.high, chart.unit)}")


def chart_description(chart: Chart) -> str:
    rows = "; ".join(f"{b.label}: {fmt.cell(b.cell, chart.unit, chart.threshold)}" for b in chart.bars)
    projection = (f" Proiezione a fine anno: {fmt.figure(chart.projection, chart.unit)}."
                  if chart.projection is not None else "")
    return (f"Barre orizzontali per {len(chart.bars)} voci. {rows}.{projection} "
            "Il range di valutazione è l'area verde. Gli stessi dati sono nella tabella che segue.")


def _band(chart: Chart) -> str:
    left, right = chart.x(chart.low), chart.x(chart.high)
    bottom = TOP + ROW_H * len(chart.bars)
    label = f"Range di valutazione {fmt.band(chart.low, chart.high, chart.unit)}"
    area = (f'<rect x="{left:.1f}" y="{TOP - 4}" width="{max(right - left, 2):.1f}" height="{bottom - TOP + 4}" '
            f'fill="{BAND}" stroke="{BAND_EDGE}" stroke-dasharray="4 2"/>')
    anchor, x = ("end", right) if right > LABEL_W + PLOT_W / 2 else ("start", left)
    text = (f'<text x="{x:.1f}" y="{TOP - 10}" font-size="11" text-anchor="{anchor}" fill="{BAND_EDGE}" '
            f"{FONT}>{escape(label)}</text>")
    return area + text


def _axis(chart: Chart) -> list[str]:
    base = TOP + ROW_H * len(chart.bars)
    parts = [f'<line x1="{LABEL_W}" y1="{TOP - 4}" x2="{LABEL_W}" y2="{base}" stroke="{INK}"/>']
    for share in (0, 0.5, 1):
        value = chart.scale_max * share
        x = chart.x(value)
        parts.append(f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 4}" stroke="{INK}"/>')
        parts.append(f'<text x="{x:.1f}" y="{base + 16}" font-size="10" text-anchor="middle" fill="{INK}" '
                     f'{FONT}>{escape(fmt.tick(value, chart.unit))}</text>')
    return parts


def _bar(chart: Chart, bar: Bar, index: int) -> list[str]:
    y = TOP + ROW_H * index + (ROW_H - BAR_H) / 2
    weight = ' font-weight="bold"' if bar.total else ""
    label = bar.label if len(bar.label) <= 26 else bar.label[:25] + "…"
    parts = [f'<text x="{LABEL_W - 6}" y="{y + BAR_H - 3:.1f}" font-size="11" text-anchor="end" fill="{INK}"{weight} '
             f'{FONT}>{escape(label)}</text>']
    value, end = bar.cell.get("valore"), LABEL_W
    if value is not None and not bar.cell.get("soppresso"):
        end = chart.x(value)
        parts.append(f'<rect x="{LABEL_W}" y="{y:.1f}" width="{max(end - LABEL_W, 1):.1f}" height="{BAR_H}" '
                     f'fill="{TOTAL_BAR if bar.total else BAR}"/>')
    if bar.total and chart.projection is not None:
        end = max(end, chart.x(chart.projection))  # the label goes past the projection outline
    parts.append(f'<text x="{end + 5:.1f}" y="{y + BAR_H - 3:.1f}" font-size="11" fill="{INK}"{weight} {FONT}>'
                 f"{escape(fmt.cell(bar.cell, chart.unit, chart.threshold))}</text>")
    return parts


def _projection(chart: Chart) -> str:
    """The year-end projection of the total: a dashed outline from the axis to the projected value."""
    index = next((i for i, b in enumerate(chart.bars) if b.total), None)
    if chart.projection is None or index is None or chart.bars[index].cell.get("soppresso"):
        return ""
    y = TOP + ROW_H * index + (ROW_H - BAR_H) / 2 - 2
    width = max(chart.x(chart.projection) - LABEL_W, 1)
    return (f'<rect x="{LABEL_W}" y="{y:.1f}" width="{width:.1f}" height="{BAR_H + 4}" fill="none" '
            f'stroke="{INK}" stroke-dasharray="3 2"><title>Proiezione a fine anno: '
            f"{escape(fmt.figure(chart.projection, chart.unit))}</title></rect>")
