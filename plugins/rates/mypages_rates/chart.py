"""Line charts as SVG made on the server: no script, no inline style (the portal's CSP allows
neither); colours are presentation attributes, and the drawing scales to its container
through its viewBox, from a phone's 390 pixels up."""
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 40
MAX_POINTS = 800  # more than the pixels across: thinned, keeping the first and the last


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high == low:
        return [low]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * magnitude
        if raw <= step:
            break
    first = (low // step) * step
    ticks, value = [], first
    while value <= high + step / 2:
        if value >= low - step / 100:
            ticks.append(round(value, 10))
        value += step
    return ticks


def thin(points: list[tuple[dt.date, Decimal]]) -> list[tuple[dt.date, Decimal]]:
    if len(points) <= MAX_POINTS:
        return points
    step = len(points) / (MAX_POINTS - 1)
    return [points[int(i * step)] for i in range(MAX_POINTS - 1)] + [points[-1]]


def line_chart(points, *, label: str, format_value, format_day, decimals: int = 2) -> Markup:
    """An SVG line chart of ``points`` (day, value), oldest first; ``label`` names it for
    screen readers, which also get the first and last values in its description."""
    points = thin(points)
    if not points:
        return Markup("")
    values = [float(v) for _, v in points]
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1 if low else -1, high + 1 if high else 1
    margin = (high - low) * 0.08
    low, high = low - margin, high + margin
    first_day, last_day = points[0][0], points[-1][0]
    span = max(1, (last_day - first_day).days)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day):
        return LEFT + (day - first_day).days / span * plot_w

    def y(value):
        return TOP + (high - float(value)) / (high - low) * plot_h

    path = " ".join(f"{'M' if i == 0 else 'L'}{x(d):.1f},{y(v):.1f}"
                    for i, (d, v) in enumerate(points))
    parts = [f'<svg class="rates-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
             f'preserveAspectRatio="xMidYMid meet" role="img" aria-labelledby="chart-title '
             f'chart-desc" xmlns="http://www.w3.org/2000/svg">',
             f'<title id="chart-title">{escape(label)}</title>',
             f'<desc id="chart-desc">{escape(format_day(first_day))}: '
             f'{escape(format_value(points[0][1]))}; {escape(format_day(last_day))}: '
             f'{escape(format_value(points[-1][1]))}</desc>',
             f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#ffffff" '
             f'stroke="#c8ccd2"/>']
    for tick in _ticks(low, high):
        ty = y(tick)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
                     f'stroke="#e3e6ea"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" font-size="12" '
                     f'fill="#333">{escape(format_value(Decimal(str(tick)), decimals))}</text>')
    for day in _day_ticks(first_day, last_day):
        tx = x(day)
        parts.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{TOP + plot_h}" '
                     f'y2="{TOP + plot_h + 5}" stroke="#666"/>')
        parts.append(f'<text x="{tx:.1f}" y="{HEIGHT - BOTTOM + 22}" text-anchor="middle" '
                     f'font-size="12" fill="#333">{escape(format_day(day, short=True))}</text>')
    parts.append(f'<path d="{path}" fill="none" stroke="#0b5cad" stroke-width="2" '
                 f'stroke-linejoin="round"/>')
    lx, ly = x(last_day), y(points[-1][1])
    parts.append(f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="3.5" fill="#0b5cad"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _day_ticks(first: dt.date, last: dt.date, count: int = 5) -> list[dt.date]:
    span = (last - first).days
    if span <= 0:
        return [first]
    return [first + dt.timedelta(days=round(span * i / (count - 1))) for i in range(count)]
