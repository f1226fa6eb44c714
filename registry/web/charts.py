"""Charts as plain SVG, drawn on the server: readable without JavaScript, styled by the page's CSS."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT, PAD = 640, 220, 32
LEFT = 48  # room for the "100%" tick


def weekly_bars(weeks: list[str], values: dict[str, float], label: str) -> str:
    """A bar a week (a share, 0–1), the week's label under it and its percentage above; a week without submits
    has no bar. `label` names the chart for screen readers."""
    slot = (WIDTH - LEFT - PAD) / max(len(weeks), 1)
    bar = slot * 0.6
    top, bottom = PAD, HEIGHT - PAD
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="chart" '
        f'aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        f'<line class="axis" x1="{LEFT}" y1="{bottom}" x2="{WIDTH - PAD}" y2="{bottom}"/>',
    ]
    for share in (0.5, 1.0):
        y = bottom - share * (bottom - top)
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD}" y2="{y:.1f}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{share:.0%}</text>')
    for i, week in enumerate(weeks):
        x = LEFT + i * slot + (slot - bar) / 2
        centre = x + bar / 2
        parts.append(
            f'<text class="tick" x="{centre:.1f}" y="{HEIGHT - PAD / 3:.1f}" text-anchor="middle">'
            f"{escape(week.split('-W')[-1])}</text>"
        )
        if week not in values:
            continue
        value = max(0.0, min(1.0, values[week]))
        height = value * (bottom - top)
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{bottom - height:.1f}" width="{bar:.1f}" height="{height:.1f}">'
            f"<title>{escape(week)}: {value:.0%}</title></rect>"
        )
        y = bottom - height - 4
        parts.append(f'<text class="value" x="{centre:.1f}" y="{y:.1f}" text-anchor="middle">{value:.0%}</text>')
    parts.append("</svg>")
    return "".join(parts)
