"""Charts and the map drawn as inline SVG on the server: no JavaScript library, no online tiles,
readable by screen readers (each figure has a title and a description, each mark a tooltip)."""
from markupsafe import Markup, escape

from core.codes import CoverageState

PALETTE = {"covered": "#2e7d32", "pending": "#f9a825", "planned": "#64b5f6", "uncovered": "#c62828",
           "enterprise": "#1565c0"}
# The four coverage states (core/coverage.py) as the bars draw them: the row's figure, its name, its colour.
STATES = tuple((figure, state.value, state.label) for figure, state in (
    ("covered", CoverageState.CONFIRMED), ("pending", CoverageState.AWAITING), ("planned", CoverageState.PLANNED),
    ("uncovered", CoverageState.UNCOVERED)))


def _svg(width: int, height: int, title: str, description: str, body: str) -> Markup:
    return Markup(
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" class="chart" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title><desc>{escape(description)}</desc>'
        f"{body}</svg>")


def _linked(mark: str, href: str | None, label: str) -> str:
    """The mark inside an SVG link to href (when given), named for screen readers."""
    if not href:
        return mark
    return f'<a href="{escape(href)}" aria-label="{escape(label)}" class="chart-link">{mark}</a>'


def coverage_bars(rows: list[dict], title: str, link=None) -> Markup:
    """Stacked horizontal bars per region in the four coverage states (履约中, 待确认, 已规划, 未覆盖).

    link(row, state) → the URL of the households behind a segment (state: confirmed / awaiting / planned /
    uncovered; None: the row's households), or None; each segment and the row's name then link there."""
    height = 28 * len(rows) + 40
    width, left, right = 720, 150, 90
    largest = max((row["households"] for row in rows), default=0) or 1
    parts = []
    for index, row in enumerate(rows):
        y = 30 + index * 28
        x = left
        name = row["name"]
        parts.append(_linked(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" class="label">{escape(name)}</text>',
                             link(row, None) if link else None, f"{name} 全部 {row['households']} 户"))
        for key, state, label in STATES:
            value = row.get(key, 0) or 0
            length = (width - left - right) * value / largest
            mark = (f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="20" fill="{PALETTE[key]}" '
                    f'data-state="{state}"><title>{escape(name)} {label} {value} 户</title></rect>')
            parts.append(_linked(mark, link(row, state) if link and value else None, f"{name} {label} {value} 户"))
            x += length
        rate = f'{row["covered"] / row["households"]:.0%}' if row["households"] else "—"
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 14}" class="value">{rate}</text>')
    legend = "".join(
        f'<rect x="{left + i * 110}" y="6" width="14" height="14" fill="{PALETTE[k]}"/>'
        f'<text x="{left + i * 110 + 20}" y="18" class="label">{name}</text>'
        for i, (k, _, name) in enumerate(STATES))
    description = "；".join(
        f'{r["name"]}：' + "，".join(f"{label} {r.get(key, 0) or 0}" for key, _, label in STATES)
        + f' 户（共 {r["households"]} 户，履约中占比见条末）' for r in rows)
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


def trend_line(points, title: str, series=None) -> Markup:
    """Lines of rates (0–1) across match runs.

    points: (label, value) pairs — one line — or dicts with a `label` and a value per series key; series:
    (key, name, colour) of each line (default: one line of the pairs' values)."""
    width, height, pad = 720, 240, 40
    if not points:
        return _svg(width, 60, title, "暂无匹配运行", '<text x="10" y="35" class="label">暂无匹配运行记录</text>')
    if series is None:
        points = [{"label": label, "value": value} for label, value in points]
        series = (("value", "覆盖率", PALETTE["covered"]),)
    step = (width - 2 * pad) / max(len(points) - 1, 1)
    body = (f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" class="axis"/>'
            f'<text x="{pad}" y="{height - 10}" class="label">{escape(points[0]["label"])}</text>'
            f'<text x="{width - pad}" y="{height - 10}" text-anchor="end" class="label">{escape(points[-1]["label"])}</text>'
            f'<text x="4" y="{pad}" class="label">100%</text><text x="4" y="{height - pad}" class="label">0%</text>')
    descriptions = []
    for number, (key, name, colour) in enumerate(series):
        coords = [(pad + i * step, height - pad - (height - 2 * pad) * (point.get(key) or 0), point)
                  for i, point in enumerate(points)]
        path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y, _) in enumerate(coords))
        body += f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="3" data-series="{key}"/>'
        body += "".join(
            _linked(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{colour}"><title>{escape(point["label"])} {name} '
                    f'{(point.get(key) or 0):.1%}</title></circle>', point.get("href"),
                    f'{point["label"]} {name} {(point.get(key) or 0):.1%}')
            for x, y, point in coords)
        if len(series) > 1:
            body += (f'<rect x="{pad + 10 + number * 120}" y="6" width="14" height="14" fill="{colour}"/>'
                     f'<text x="{pad + 30 + number * 120}" y="18" class="label">{escape(name)}</text>')
        descriptions.append(f"{name}：" + "，".join(f'{point["label"]} {(point.get(key) or 0):.1%}' for point in points))
    return _svg(width, height, title, "；".join(descriptions), body)


def village_map(villages: list[dict], enterprises: list[dict], title: str, link=None) -> Markup:
    """Villages (coloured by coverage) and enterprises at their coordinates, projected into the county's box.

    link(village) → the URL of the village's households (or None): each dot then links there."""
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
        name = village["name"] or village["code"]
        parts.append(_linked(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{4 + min(households, 60) / 10:.1f}" fill="{colour}" '
            f'fill-opacity="0.75" data-village="{escape(village["code"])}"><title>{escape(name)}：'
            f'履约中 {village["covered"]}/{households} 户</title></circle>', link(village) if link else None,
            f"{name} 履约中 {village['covered']}/{households} 户"))
    for enterprise in enterprises:
        if enterprise.get("lon") is None:
            continue
        x, y = project(enterprise["lon"], enterprise["lat"])
        parts.append(f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{PALETTE["enterprise"]}">'
                     f'<title>{escape(enterprise["name"] or enterprise["credit_code"])}</title></rect>')
    legend = (f'<circle cx="20" cy="16" r="6" fill="{PALETTE["covered"]}"/><text x="30" y="21" class="label">履约中≥80%</text>'
              f'<circle cx="130" cy="16" r="6" fill="{PALETTE["pending"]}"/><text x="140" y="21" class="label">50–80%</text>'
              f'<circle cx="220" cy="16" r="6" fill="{PALETTE["uncovered"]}"/><text x="230" y="21" class="label">&lt;50%</text>'
              f'<rect x="300" y="10" width="12" height="12" fill="{PALETTE["enterprise"]}"/>'
              f'<text x="318" y="21" class="label">企业</text>')
    description = f"{len(villages)} 个村（按覆盖率着色）与 {len(enterprises)} 家企业的位置"
    return _svg(width, height, title, description, legend + "".join(parts))
