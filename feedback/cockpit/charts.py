"""Server-rendered SVG charts: no script, nothing loaded from another host, drawn in the page.

Each chart is an `<svg role="img">` labelled by its title and described by the table beside it
(`aria-describedby`), which carries the same numbers for screen readers and for copying. Colours
come from the stylesheet (classes), so the charts follow the page's theme and contrast.
"""

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
ROW = 26
LABEL = 170
VALUE = 70


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown (e.g. "83 %", "1,204")


def bar_chart(bars: list[Bar], *, title: str, chart_id: str, table_id: str, maximum: float | None = None) -> SafeString:
    """Horizontal bars, one per row, the label on the left and the value on the right."""
    top = max([maximum or 0, *(b.value for b in bars)]) or 1
    span = WIDTH - LABEL - VALUE
    height = max(1, len(bars)) * ROW + 8
    rows = []
    for i, bar in enumerate(bars):
        y = 4 + i * ROW
        width = max(0.0, bar.value) / top * span
        rows.append(
            format_html(
                '<g class="chart-row"><text x="{}" y="{}" class="chart-label" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" class="chart-bar"><title>{}: {}</title></rect>'
                '<text x="{}" y="{}" class="chart-value">{}</text></g>',
                LABEL - 8,
                y + ROW * 0.65,
                _short(bar.label),
                LABEL,
                y + 3,
                f"{width:.1f}",
                ROW - 8,
                bar.label,
                bar.text,
                LABEL + width + 6,
                y + ROW * 0.65,
                bar.text,
            )
        )
    return format_html(
        '<svg class="chart chart-bars" id="{}" role="img" aria-label="{}" aria-describedby="{}" '
        'viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMinYMin meet">{}</svg>',
        chart_id,
        title,
        table_id,
        WIDTH,
        height,
        mark_safe("".join(rows)),  # noqa: S308 - each row was built with format_html
    )


def line_chart(
    points: list[tuple[str, float | None]], *, title: str, chart_id: str, table_id: str, percent: bool = True
) -> SafeString:
    """A line over time (e.g. the share decided at the edge, week by week), 0 to 100 % on the axis."""
    height, left, bottom, top_pad = 220, 44, 28, 10
    plot_w, plot_h = WIDTH - left - 10, height - bottom - top_pad
    values = [v for _, v in points if v is not None]
    top = 1.0 if percent else (max(values) if values else 1) or 1
    step = plot_w / max(1, len(points) - 1)

    def xy(i: int, value: float) -> tuple[float, float]:
        return left + i * step, top_pad + plot_h - (value / top) * plot_h

    coords = [xy(i, v) for i, (_, v) in enumerate(points) if v is not None]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" class="chart-grid"/><text x="{}" y="{}" class="chart-axis" '
        'text-anchor="end">{}</text>',
        (
            (left, WIDTH - 10, f"{top_pad + plot_h * (1 - f):.1f}", f"{top_pad + plot_h * (1 - f):.1f}", left - 4,
             f"{top_pad + plot_h * (1 - f) + 4:.1f}", f"{round(f * 100)} %" if percent else f"{f * top:.0f}")
            for f in (0, 0.25, 0.5, 0.75, 1)
        ),
    )  # fmt: skip
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3" class="chart-dot"><title>{}: {}</title></circle>',
        (
            (f"{x:.1f}", f"{y:.1f}", label, f"{round(v * 100)} %" if percent else f"{v:g}")
            for (x, y), (label, v) in zip(coords, [(lb, v) for lb, v in points if v is not None], strict=True)
        ),
    )
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" class="chart-axis" text-anchor="middle">{}</text>',
        (
            (f"{left + i * step:.1f}", height - 8, label)
            for i, (label, _) in enumerate(points)
            if i % -(-len(points) // 7) == 0  # about seven labels, whatever the number of points
        ),
    )
    line = format_html('<polyline points="{}" class="chart-line" fill="none"/>', path) if len(coords) > 1 else ""
    return format_html(
        '<svg class="chart chart-line-chart" id="{}" role="img" aria-label="{}" aria-describedby="{}" '
        'viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMinYMin meet">{}{}{}{}</svg>',
        chart_id,
        title,
        table_id,
        WIDTH,
        height,
        grid,
        line,
        dots,
        labels,
    )


def pyramid_chart(levels: list[tuple[str, str, int]], *, title: str, chart_id: str, table_id: str) -> SafeString:
    """The inverted pyramid: one centred band per level, top to bottom, its width the level's count
    (the customers' band, first, is the whole). `levels` are (key, label, count)."""
    top = max([n for _, _, n in levels] or [1]) or 1
    band, gap = 54, 8
    height = len(levels) * (band + gap)
    bands = []
    for i, (key, label, count) in enumerate(levels):
        width = max(2.0, count / top * (WIDTH - 20))
        x = (WIDTH - width) / 2
        y = i * (band + gap)
        bands.append(
            format_html(
                '<g class="pyramid-level pyramid-{}"><rect x="{}" y="{}" width="{}" height="{}" rx="4" '
                'class="pyramid-band"><title>{}: {}</title></rect>'
                '<text x="{}" y="{}" text-anchor="middle" class="pyramid-text">{} · {}</text></g>',
                key,
                f"{x:.1f}",
                y,
                f"{width:.1f}",
                band,
                label,
                count,
                WIDTH / 2,
                y + band / 2 + 5,
                label,
                count,
            )
        )
    return format_html(
        '<svg class="chart pyramid" id="{}" role="img" aria-label="{}" aria-describedby="{}" '
        'viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMidYMin meet">{}</svg>',
        chart_id,
        title,
        table_id,
        WIDTH,
        height,
        mark_safe("".join(bands)),  # noqa: S308 - each band was built with format_html
    )


def _short(label: str, size: int = 24) -> str:
    return label if len(label) <= size else label[: size - 1] + "…"
