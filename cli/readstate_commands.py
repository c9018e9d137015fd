"""`flask readstate check|repair [--county CODE …]`: the stored read state against a recomputation.

The figures pages filter and count on (graph/readstate.py) are refreshed by every write; `check`
recomputes them from scratch and reports what differs (exit status 1, for monitoring), `repair`
replaces what differs by the recomputed values (exit status 0).
"""
import sys
from collections import Counter

import click
from flask.cli import AppGroup

from cli import context

EXAMPLES = 10  # example households and regions shown in a summary

readstate_group = AppGroup("readstate", help="读取状态 / read state: check the stored figures, repair them")

county_option = click.option("--county", "counties", multiple=True, metavar="CODE",
                             help="12 位县代码（可重复），默认全部有户的县 / 12-digit county code (repeatable); "
                                  "default: every county with households")


def progress_line(position: int, total: int, county: str, result: dict) -> str:
    """One county's line while checking."""
    households, regions = len(result["households"]), len(result["regions"])
    missing = len(result["regions_missing"])
    if not (households or regions or missing or result.get("enterprises")):
        return f"[{position}/{total}] 县 {county}：一致 / consistent"
    return (f"[{position}/{total}] 县 {county}：{households} 户、{regions} 个区划不一致，{missing} 个区划缺失 / "
            f"{households} households, {regions} regions differ, {missing} region codes missing")


def _figure(value) -> str:
    return "无 / none" if value is None else str(value)


def summary_lines(report: list[dict], counties_checked: int, repaired: bool = False) -> list[str]:
    """The summary of a check (or a repair) as lines of text.

    report is graph.readstate.check's list of per-county differences; with repaired, the differing
    values were replaced by the expected ones (region codes without a Region node stay missing).
    """
    households = [(item["county"], household) for item in report for household in item["households"]]
    regions = [region for item in report for region in item["regions"]]
    missing = sorted({code for item in report for code in item["regions_missing"]})
    verb = "已修复 / repaired" if repaired else "不一致 / differing"
    lines = [f"已检查县 / counties checked: {counties_checked}"]
    if not (households or regions or missing or any(item.get("enterprises") for item in report)):
        lines.append("读取状态一致 / the read state is consistent")
        return lines

    lines.append(f"户 {verb} / households: {len(households)}")
    fields = Counter(field for _, household in households for field in household["differing"])
    for field, count in sorted(fields.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"  {field}: {count}")
    if households:
        examples = sorted(household["household_id"] for _, household in households)[:EXAMPLES]
        more = f" …（共 {len(households)} 户 / {len(households)} in all）" if len(households) > EXAMPLES else ""
        lines.append(f"  例如 / e.g.: {', '.join(examples)}{more}")

    lines.append(f"区划 {verb} / regions: {len(regions)}")
    for region in sorted(regions, key=lambda item: item["code"])[:EXAMPLES]:
        changes = "; ".join(
            f"{field} 存储 stored {_figure(region['stored'].get(field))} → 应为 expected {_figure(region['expected'][field])}"
            for field in region["differing"])
        lines.append(f"  {region['code']}: {changes}")
    if len(regions) > EXAMPLES:
        lines.append(f"  …（另有 {len(regions) - EXAMPLES} 个 / {len(regions) - EXAMPLES} more）")

    enterprises = [enterprise for item in report for enterprise in item.get("enterprises", [])]
    if enterprises:
        lines.append(f"企业预警 {verb} / enterprise warnings: {len(enterprises)}："
                     + ", ".join(sorted(item["credit_code"] for item in enterprises)[:EXAMPLES]))
    if missing:
        shown = ", ".join(missing[:EXAMPLES]) + (" …" if len(missing) > EXAMPLES else "")
        lines.append(f"户所指但无 Region 节点的区划代码 / region codes households name but no Region has: "
                     f"{len(missing)}: {shown}")
        if repaired:
            lines.append("  （修复不创建区划，请加载行政村文件 / repair creates no regions: load a villages file）")
    return lines


def _check(counties: tuple[str, ...], repair: bool) -> tuple[list[dict], int]:
    from graph import readstate

    checked = 0

    def progress(position: int, total: int, county: str, result: dict) -> None:
        nonlocal checked
        checked = position
        click.echo(progress_line(position, total, county, result))

    report = readstate.check(context.driver(), list(counties) or None, repair=repair,
                             database=context.settings().neo4j_database, progress=progress)
    return report, checked


@readstate_group.command("check")
@county_option
def check_command(counties):
    """检查读取状态 / Check the stored read state.

    Recomputes every household's and region's figures and lists what differs from the stored ones.
    Exit status 1 when anything differs, 0 otherwise (for monitoring).
    """
    report, checked = _check(counties, repair=False)
    for line in summary_lines(report, checked):
        click.echo(line)
    sys.exit(1 if report else 0)


@readstate_group.command("repair")
@county_option
def repair_command(counties):
    """修复读取状态 / Repair the stored read state.

    Replaces the figures that differ by the recomputed ones (one transaction per county) and reports
    what it changed.
    """
    report, checked = _check(counties, repair=True)
    for line in summary_lines(report, checked, repaired=True):
        click.echo(line)
