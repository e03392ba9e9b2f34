"""Server-side SVG charts (no JavaScript, no CDN; presentation attributes, no CSS).

Every label is escaped with ``format_html``. Served as ``image/svg+xml`` and shown
with ``<img>``, so the SVG is self-contained: colours are attributes, not classes.
Sizes are in SVG user units; the CSS scales the SVG to the page width.
"""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 24, 36


def _nice_max(value: int) -> int:
    """A round axis maximum >= value (1, 2, 5 x 10^n)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def line_chart(
    points: list[tuple[str, int]],
    *,
    title: str,
    second: list[int] | None = None,
    legend: tuple[str, str] = ("", ""),
) -> SafeString:
    """A line chart of ``(label, value)`` points, labels along x (every 5th shown).

    ``second``: an optional second series, one value per point, drawn dashed
    in another colour; ``legend`` names the two series (shown when given)."""
    top = _nice_max(max((v for _, v in points), default=0))
    if second:
        top = max(top, _nice_max(max(second)))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(points) - 1, 1)

    def xy(i: int, v: int) -> tuple[float, float]:
        return LEFT + plot_w * i / n, TOP + plot_h * (1 - v / top)

    coords = [xy(i, v) for i, (_, v) in enumerate(points)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    grid = format_html_join(
        "",
        '<line stroke="#e3e7ec" stroke-width="1" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text text-anchor="end" font-size="12" fill="#1b1f24" font-family="system-ui, sans-serif" x="{}" y="{}">{}</text>',
        (
            (
                LEFT,
                WIDTH - RIGHT,
                f"{TOP + plot_h * (1 - f):.1f}",
                f"{TOP + plot_h * (1 - f):.1f}",
                LEFT - 6,
                f"{TOP + plot_h * (1 - f) + 4:.1f}",
                round(top * f),
            )
            for f in (0, 0.25, 0.5, 0.75, 1)
        ),
    )
    xlabels = format_html_join(
        "",
        '<text text-anchor="middle" font-size="12" fill="#1b1f24" font-family="system-ui, sans-serif" x="{}" y="{}">{}</text>',
        (
            (f"{coords[i][0]:.1f}", HEIGHT - BOTTOM + 18, label)
            for i, (label, _) in enumerate(points)
            if i % 5 == 0 or i == len(points) - 1
        ),
    )
    dots = format_html_join(
        "",
        '<circle fill="#0b57b0" cx="{}" cy="{}" r="3"><title>{}: {}</title></circle>',
        (
            (f"{x:.1f}", f"{y:.1f}", points[i][0], points[i][1])
            for i, (x, y) in enumerate(coords)
        ),
    )
    extra = ""
    if second:
        other = [xy(i, v) for i, v in enumerate(second[: len(points)])]
        extra = format_html(
            '<polyline fill="none" stroke="#c2410c" stroke-width="2.5" '
            'stroke-dasharray="6 4" points="{}"/>{}',
            " ".join(f"{x:.1f},{y:.1f}" for x, y in other),
            format_html_join(
                "",
                '<circle fill="#c2410c" cx="{}" cy="{}" r="3"><title>{}: {}</title></circle>',
                (
                    (f"{x:.1f}", f"{y:.1f}", points[i][0], second[i])
                    for i, (x, y) in enumerate(other)
                ),
            ),
        )
    if legend[0]:
        extra = format_html(
            '{}<text font-size="12" fill="#0b57b0" font-family="system-ui, sans-serif" '
            'x="{}" y="{}">— {}</text><text font-size="12" fill="#c2410c" '
            'font-family="system-ui, sans-serif" x="{}" y="{}">- - {}</text>',
            extra,
            LEFT + 8,
            TOP - 8,
            legend[0],
            LEFT + 220,
            TOP - 8,
            legend[1],
        )
    return format_html(
        '<svg role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}'
        '<line stroke="#8a96a3" stroke-width="1" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<polyline fill="none" stroke="#0b57b0" stroke-width="2.5" points="{}"/>{}{}{}</svg>',
        title,
        WIDTH,
        HEIGHT,
        WIDTH,
        HEIGHT,
        title,
        grid,
        LEFT,
        WIDTH - RIGHT,
        TOP + plot_h,
        TOP + plot_h,
        path,
        dots,
        xlabels,
        extra,
    )


def bar_chart(
    bars: list[tuple[str, int]],
    *,
    title: str,
    unit: str = "apps",
    empty: str = "No manage scope is held by any app.",
) -> SafeString:
    """A horizontal bar chart of ``(label, value)``, one row per bar; each
    bar's tooltip counts ``unit``; ``empty`` is said when there is no bar."""
    label_w, row_h = 230, 24
    height = max(len(bars), 1) * row_h + TOP + 8
    top = _nice_max(max((v for _, v in bars), default=0))
    plot_w = WIDTH - label_w - RIGHT - 40
    rows = format_html_join(
        "",
        '<text text-anchor="end" font-size="12" fill="#1b1f24" font-family="system-ui, sans-serif" x="{}" y="{}">{}</text>'
        '<rect fill="#c2410c" x="{}" y="{}" width="{}" height="{}"><title>{}: {} {}</title></rect>'
        '<text x="{}" y="{}" font-size="12" fill="#1b1f24" font-family="system-ui, sans-serif">{}</text>',
        (
            (
                label_w - 8,
                TOP + i * row_h + 16,
                label,
                label_w,
                TOP + i * row_h + 4,
                f"{max(plot_w * v / top, 1):.1f}",
                row_h - 8,
                label,
                v,
                unit,
                f"{label_w + plot_w * v / top + 6:.1f}",
                TOP + i * row_h + 16,
                v,
            )
            for i, (label, v) in enumerate(bars)
        ),
    )
    empty = (
        format_html(
            '<text x="{}" y="{}" font-size="12" fill="#1b1f24">{}</text>',
            LEFT,
            TOP + 12,
            empty,
        )
        if not bars
        else ""
    )
    return format_html(
        '<svg role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}" '
        'xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}{}</svg>',
        title,
        WIDTH,
        height,
        WIDTH,
        height,
        title,
        rows,
        empty,
    )
