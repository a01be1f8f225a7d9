"""Small inline SVG charts for the report: drawn here so the page needs no network or JS.

A chart library would need its JavaScript in the page (Vega, Chart.js) or a heavy import at
the end of every run (matplotlib) for what is a polyline and a few dots. Each point carries a
``<title>``, which browsers show as a tooltip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

WIDTH, HEIGHT, PAD = 320, 64, 6
COLOURS = {"passed": "#1a7f37", "attention": "#bf8700", "failed": "#cf222e", "running": "#6e7781"}


def _fmt_number(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


def sparkline(values: Sequence[float | None], labels: Sequence[str], title: str,
              fmt: Callable[[float], str] = _fmt_number, bad_above: float | None = None) -> str:
    """A line over the runs, oldest left; NULLs leave gaps. ``bad_above`` draws a dashed limit
    and paints the points beyond it red."""
    known = [v for v in values if v is not None]
    head = f'<figure class="trend"><figcaption>{escape(title)}</figcaption>'
    if not known:
        return head + '<p class="muted">no data yet</p></figure>'
    top = max([*known, bad_above or 0.0])
    low = min([*known, 0.0])
    span = (top - low) or 1.0
    n = len(values)

    def x(i: int) -> float:
        return PAD + (WIDTH - 2 * PAD) * (i / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * (v - low) / span

    parts = [f'<svg class="spark" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
             f'role="img" aria-label="{escape(title)}">',
             f'<line x1="{PAD}" y1="{y(low):.1f}" x2="{WIDTH - PAD}" y2="{y(low):.1f}" class="axis"/>']
    if bad_above is not None:
        parts.append(f'<line x1="{PAD}" y1="{y(bad_above):.1f}" x2="{WIDTH - PAD}" y2="{y(bad_above):.1f}" '
                     f'class="limit"><title>limit {escape(fmt(bad_above))}</title></line>')
    segment: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            if len(segment) > 1:
                parts.append(f'<polyline points="{" ".join(segment)}" class="line"/>')
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(v):.1f}")
    if len(segment) > 1:
        parts.append(f'<polyline points="{" ".join(segment)}" class="line"/>')
    for i, (v, label) in enumerate(zip(values, labels, strict=True)):
        if v is None:
            continue
        bad = bad_above is not None and v > bad_above
        parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" class="{"dot bad" if bad else "dot"}">'
                     f'<title>{escape(label)}: {escape(fmt(v))}</title></circle>')
    parts.append("</svg>")
    last = known[-1] if values[-1] is not None else None
    latest = f'<span class="latest">latest {escape(fmt(last))}</span>' if last is not None else ""
    return head + "".join(parts) + latest + "</figure>"


def verdict_strip(verdicts: Sequence[str], labels: Sequence[str]) -> str:
    """One coloured square per run, oldest left: the history of verdicts at a glance."""
    size, gap = 14, 3
    width = max(1, len(verdicts)) * (size + gap)
    cells = [f'<rect x="{i * (size + gap)}" y="0" width="{size}" height="{size}" rx="3" '
             f'fill="{COLOURS.get(v, COLOURS["running"])}"><title>{escape(label)}: {escape(v)}</title></rect>'
             for i, (v, label) in enumerate(zip(verdicts, labels, strict=True))]
    return (f'<svg class="strip" viewBox="0 0 {width} {size}" width="{width}" height="{size}" role="img" '
            f'aria-label="verdict of the last runs">{"".join(cells)}</svg>')
