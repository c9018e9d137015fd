"""Charts and the map drawn as inline SVG on the server: no JavaScript library, no online tiles,
readable by screen readers (each figure has a title and a description, each mark a tooltip)."""
from markupsafe import Markup, escape

PALETTE = {"covered": "#2e7d32", "pending": "#f9a825", "uncovered": "#c62828", "enterprise": "#1565c0"}


def _svg(width: int, height: int, title: str, description: str, body: str) -> Markup:
    return Markup(
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" class="chart" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title><desc>{escape(description)}</desc>'
        f"{body}</svg>")


def coverage_bars(rows: list[dict], title: str) -> Markup:
    """Stacked horizontal bars per region: covered, pending, uncovered households."""
    height = 28 * len(rows) + 40
    width, left, right = 720, 150, 90
    largest = max((row["households"] for row in rows), default=0) or 1
    parts = []
    for index, row in enumerate(rows):
        y = 30 + index * 28
        x = left
        parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" class="label">{escape(row["name"])}</text>')
        for key in ("covered", "pending", "uncovered"):
            value = row[key]
            length = (width - left - right) * value / largest
            label = {"covered": "已覆盖", "pending": "待确认", "uncovered": "未覆盖"}[key]
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="20" fill="{PALETTE[key]}">'
                         f'<title>{escape(row["name"])} {label} {value} 户</title></rect>')
            x += length
        rate = f'{row["covered"] / row["households"]:.0%}' if row["households"] else "—"
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 14}" class="value">{rate}</text>')
    legend = "".join(
        f'<rect x="{left + i * 110}" y="6" width="14" height="14" fill="{PALETTE[k]}"/>'
        f'<text x="{left + i * 110 + 20}" y="18" class="label">{name}</text>'
        for i, (k, name) in enumerate((("covered", "已覆盖"), ("pending", "待确认"), ("uncovered", "未覆盖"))))
    description = "；".join(f'{r["name"]}：{r["covered"]}/{r["households"]} 户已覆盖' for r in rows)
    return _svg(width, height, title, description, legend + "".join(parts))


def simple_bars(items: list[tuple[str, float]], title: str, unit: str = "") -> Markup:
    """Vertical bars, one per labelled value."""
    width, height, bottom = 720, 260, 40
    largest = max((value for _, value in items), default=0) or 1
    step = (width - 40) / max(len(items), 1)
    parts = []
    for index, (label, value) in enumerate(items):
        bar = (height - bottom - 30) * value / largest
        x = 30 + index * step
        parts.append(f'<rect x="{x:.1f}" y="{height - bottom - bar:.1f}" width="{step * 0.6:.1f}" height="{bar:.1f}" '
                     f'fill="{PALETTE["enterprise"]}"><title>{escape(label)} {value:g}{unit}</title></rect>'
                     f'<text x="{x + step * 0.3:.1f}" y="{height - bottom + 18}" text-anchor="middle" class="label">'
                     f'{escape(label)}</text><text x="{x + step * 0.3:.1f}" y="{height - bottom - bar - 6:.1f}" '
                     f'text-anchor="middle" class="value">{value:g}</text>')
    description = "；".join(f"{label}：{value:g}{unit}" for label, value in items)
    return _svg(width, height, title, description, "".join(parts))


def trend_line(points: list[tuple[str, float]], title: str) -> Markup:
    """A line of a rate (0–1) across match runs."""
    width, height, pad = 720, 240, 40
    if not points:
        return _svg(width, 60, title, "暂无匹配运行", '<text x="10" y="35" class="label">暂无匹配运行记录</text>')
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    coords = [(pad + i * step, height - pad - (height - 2 * pad) * value) for i, (_, value) in enumerate(points)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(coords))
    marks = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{PALETTE["covered"]}"><title>{escape(label)} '
                    f'{value:.1%}</title></circle>' for (x, y), (label, value) in zip(coords, points))
    axis = (f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" class="axis"/>'
            f'<text x="{pad}" y="{height - 10}" class="label">{escape(points[0][0])}</text>'
            f'<text x="{width - pad}" y="{height - 10}" text-anchor="end" class="label">{escape(points[-1][0])}</text>'
            f'<text x="4" y="{pad}" class="label">100%</text><text x="4" y="{height - pad}" class="label">0%</text>')
    description = "；".join(f"{label}：{value:.1%}" for label, value in points)
    return _svg(width, height, title, description,
                axis + f'<path d="{path}" fill="none" stroke="{PALETTE["covered"]}" stroke-width="3"/>' + marks)


def village_map(villages: list[dict], enterprises: list[dict], title: str) -> Markup:
    """Villages (coloured by coverage) and enterprises at their coordinates, projected into the county's box."""
    width, height, pad = 720, 520, 30
    points = [(v["lon"], v["lat"]) for v in villages if v.get("lon") is not None] + [
        (e["lon"], e["lat"]) for e in enterprises if e.get("lon") is not None]
    if not points:
        return _svg(width, 60, title, "无坐标", '<text x="10" y="35" class="label">暂无坐标数据</text>')
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    lon0, lon1, lat0, lat1 = min(lons), max(lons), min(lats), max(lats)
    span = max(lon1 - lon0, lat1 - lat0, 1e-6)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (pad + (lon - lon0) / span * (width - 2 * pad), height - pad - (lat - lat0) / span * (height - 2 * pad))

    parts = []
    for village in villages:
        if village.get("lon") is None:
            continue
        x, y = project(village["lon"], village["lat"])
        households = village["households"]
        rate = village["covered"] / households if households else 0
        colour = PALETTE["covered"] if rate >= 0.8 else PALETTE["pending"] if rate >= 0.5 else PALETTE["uncovered"]
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{4 + min(households, 60) / 10:.1f}" fill="{colour}" '
                     f'fill-opacity="0.75"><title>{escape(village["name"] or village["code"])}：'
                     f'{village["covered"]}/{households} 户已覆盖</title></circle>')
    for enterprise in enterprises:
        if enterprise.get("lon") is None:
            continue
        x, y = project(enterprise["lon"], enterprise["lat"])
        parts.append(f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{PALETTE["enterprise"]}">'
                     f'<title>{escape(enterprise["name"] or enterprise["credit_code"])}</title></rect>')
    legend = (f'<circle cx="20" cy="16" r="6" fill="{PALETTE["covered"]}"/><text x="30" y="21" class="label">覆盖率≥80%</text>'
              f'<circle cx="130" cy="16" r="6" fill="{PALETTE["pending"]}"/><text x="140" y="21" class="label">50–80%</text>'
              f'<circle cx="220" cy="16" r="6" fill="{PALETTE["uncovered"]}"/><text x="230" y="21" class="label">&lt;50%</text>'
              f'<rect x="300" y="10" width="12" height="12" fill="{PALETTE["enterprise"]}"/>'
              f'<text x="318" y="21" class="label">企业</text>')
    description = f"{len(villages)} 个村（按覆盖率着色）与 {len(enterprises)} 家企业的位置"
    return _svg(width, height, title, description, legend + "".join(parts))
