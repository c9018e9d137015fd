"""A match run opened: its parameters and model, coverage by township in the four states (core/coverage.py),
the households with no feasible pairing and the constraint that binds each, capacity use per enterprise and the
change from the run before it.

Everything is per county the run computed and bounded by it: figures are what the switch recorded
(graph/matching.py record_switch) or, while the run is current, the stored read state; the diagnosis of
unplaced households (matching/diagnose.py, as notebook 02 computes it) is made once per run and county on
first view and kept with the run.
"""
import json
import re
from datetime import datetime, timezone

from core import coverage
from core.codes import Mechanism, PartnershipStatus
from core.mechanisms import CAPACITY
from graph import match_rules as rule_queries
from graph import matching as matching_queries
from graph import runpage
from matching.diagnose import FIXABILITY, binding_constraints
from matching.features import Enterprises, Households
from matching.rules import MECHANISMS
from matching.run import MatchParams, MatchRunner
from services import jobs
from services.context import Context
from services.errors import Invalid, NotFound
from services.principal import Principal, Role, require_role
from services.privacy import RequestFacts, audit_if_personal, household_view, present_household
from services.runs import present_job, visible_job

READERS = (Role.BUREAU, Role.ANALYST, Role.ADMIN)
# "中文 / English": the Chinese part (messages and notes carry English after a slash).
ENGLISH_AFTER = re.compile(r"\s*/\s*(?=[A-Za-z])")


def chinese_part(text: str | None) -> str:
    """The Chinese part of a bilingual text ("中文 / English" → "中文")."""
    return ENGLISH_AFTER.split(text or "", maxsplit=1)[0].strip()

# The binding constraints in words (matching/diagnose.py's keys), most fixable first.
BINDING_LABELS = {
    "capacity": "容量已满：范围内的企业已无空余名额",
    "distance": "距离：范围内没有提供该方式的企业",
    "no_market": "销路：产品无企业收购或销售",
    "no_offer": "无供给：本县没有企业提供该方式",
    "no_land": "土地：无可流转的土地",
    "no_labour": "劳动力：家中无劳动力",
}
CHANGE_LABELS = {"newly_planned": "本次新规划", "no_longer_planned": "本次不再规划"}
DIAGNOSIS_VERSION = 1


def _visible_run(ctx: Context, principal: Principal, run_id: str) -> dict:
    require_role(principal, *READERS)
    if len(run_id) > 100:
        raise NotFound.of("匹配运行")
    job = present_job(visible_job(ctx, principal, run_id, jobs.MATCH))
    return job


def _county(ctx: Context, principal: Principal, run_id: str, county: str | None) -> dict:
    """The run's record of a county it computed (the caller's own for a bureau; else the one asked, or the
    first); NotFound when the run did not compute it."""
    counties = runpage.run_counties(ctx.driver, run_id, ctx.database)
    if principal.role == Role.BUREAU:
        counties = [item for item in counties if item["code"] == principal.county_code]
    if county is not None:
        counties = [item for item in counties if item["code"] == county]
    if not counties:
        raise NotFound("该次运行没有重新计算这个县 / the run did not compute this county", "county_not_in_run")
    return counties[0]


def _json(text, default):
    return json.loads(text) if isinstance(text, str) and text else default


RULE_LABELS = {
    "employment_max_km": ("就业务工距离上限", "公里"), "workshop_max_km": ("扶贫车间距离上限（弱劳动力）", "公里"),
    "contract_max_km": ("订单收购距离上限", "公里"), "land_max_km": ("土地流转距离上限", "公里"),
    "ecommerce_max_km": ("电商带动距离上限", "公里"), "min_land_mu": ("土地流转最小面积", "亩"),
}


def _parameters(ctx: Context, run: dict, county: str | None) -> list[tuple[str, str]]:
    """The run's parameters and model in words (label, value), with the eligibility rules it used in the county
    (the defaults with the county's rules version the run recorded)."""
    stored = matching_queries.match_run(ctx.driver, run["run_id"], ctx.database) or {}
    params = _json(stored.get("params"), {})
    shown = [("评分方式", chinese_part(run.get("model_note")) or "—"),
             ("模型版本", run.get("model_version") or "仅用规则"),
             ("规则评分权重", "—" if run.get("alpha") is None else f"{run['alpha']:g}"),
             ("每户推荐数", str(params.get("top_k", "—"))),
             ("每户最多安排", f"{params.get('household_limit', '—')} 个联结"),
             ("随机种子", str(params.get("seed", "—")))]
    rules = dict(params.get("rules") or {})
    version = (run.get("rules_versions") or {}).get(county) if county else None
    if version:
        for entry in rule_queries.county_rules_history(ctx.driver, county, 1000, ctx.database):
            if entry.get("version") == version:
                rules.update({key: value for key, value in (entry.get("values") or {}).items() if key in rules})
    shown.append(("本县资格规则", f"第 {version} 版" if version else "默认规则"))
    for key, (label, unit) in RULE_LABELS.items():
        if isinstance(rules.get(key), (int, float)):
            shown.append((label, f"{rules[key]:g} {unit}"))
    return shown


def _townships(record: dict) -> list[dict]:
    """Township figures in the four states: live while the run is current, else as at its switch."""
    rows = record["townships_now"] if record["current"] else _json(record["township_figures"], [])
    return [{"code": row["code"], "name": row.get("name") or row["code"], **_four(row)} for row in rows
            if row.get("households")]


def _four(figures: dict | None) -> dict:
    figures = figures or {}
    return coverage.coverage(figures.get("households", 0), figures.get("covered", 0), figures.get("pending", 0),
                             figures.get("planned", 0)).as_dict()


def summary(ctx: Context, principal: Principal, run_id: str, county: str | None = None) -> dict:
    """The run: its state, parameters and model, and for the county (a bureau's own) the coverage in the four
    states — county and townships, live while the run is current, else at its switch — the run before it and the
    counts of households it newly planned and no longer planned."""
    run = _visible_run(ctx, principal, run_id)
    record = _county(ctx, principal, run_id, county) if run.get("counties") else None
    result = {"run": run, "parameters": _parameters(ctx, run, record["code"] if record else None),
              "metrics": run.get("metrics") or {}, "county": None}
    if record is None:
        return result
    figures = record["figures_now"] if record["current"] else _json(record["figures"], {})
    result["county"] = {
        "code": record["code"], "name": record["name"], "current": record["current"],
        "sequence": runpage.run_sequence(ctx.driver, run_id, record["code"], ctx.database),
        "switched_at": record["switched_at"], "previous_run": record["previous_run"],
        "previous_run_at": runpage.previous_run_time(ctx.driver, record["previous_run"], ctx.database),
        "coverage": _four(figures), "townships": _townships(record),
        "newly_planned": record["newly_planned"], "no_longer_planned": record["no_longer_planned"],
        "diagnosed": record["diagnosed"],
    }
    return result


def _present(ctx: Context, principal: Principal, records: list[dict], facts: RequestFacts | None,
             action: str) -> list[dict]:
    view, key = household_view(principal), ctx.settings.pseudonym_secret()
    items = [present_household(record, view, key) for record in records]
    if facts is not None:
        audit_if_personal(ctx, principal, action, items, facts)
    return items


def changes(ctx: Context, principal: Principal, run_id: str, kind: str, skip: int, limit: int,
            county: str | None = None, *, facts: RequestFacts | None = None,
            action: str = "match_runs.changes") -> tuple[list[dict], int]:
    """A page of the households the run newly planned (`newly_planned`) or no longer planned
    (`no_longer_planned`) against the run current before it in the county, and their count."""
    if kind not in runpage.CHANGE_KINDS:
        raise Invalid("变化类型无效 / unknown kind of change", "invalid_kind")
    _visible_run(ctx, principal, run_id)
    record = _county(ctx, principal, run_id, county)
    found, total = runpage.changed_households(ctx.driver, run_id, record["code"], kind, skip, limit, ctx.database)
    return _present(ctx, principal, found, facts, action), total


def diagnose(ctx: Context, run_id: str, county: str) -> dict:
    """The county's households with no open partnership that no enterprise can take under the county's rules,
    each with the binding constraint and every mechanism's reason (matching/diagnose.py); counts by binding."""
    runner = MatchRunner(ctx.driver, ctx.settings, progress=None)
    params = MatchParams()
    rules = runner.county_rules([county], params)[0][county]
    household_records, enterprise_records = runner.read_inputs([county], params)
    open_households = [record for record in household_records if record["active_partnerships"] == 0]
    rows, counts = [], {}
    if open_households:
        stuck = binding_constraints(Households.from_records(open_households),
                                    Enterprises.from_records(enterprise_records, rules), rules)
        for row in stuck.to_dict("records"):
            reasons = {mechanism.value: row[mechanism.label] for mechanism in MECHANISMS}
            rows.append([row["household_id"], row["binding"], reasons])
            counts[row["binding"]] = counts.get(row["binding"], 0) + 1
    rows.sort(key=lambda row: (FIXABILITY.index(row[1]), row[0]))
    return {"version": DIAGNOSIS_VERSION, "rows": rows, "counts": counts, "open_households": len(open_households)}


def _diagnosis(ctx: Context, run_id: str, county: str) -> dict:
    found = runpage.unplaced(ctx.driver, run_id, county, ctx.database)
    if found is None or found.get("version") != DIAGNOSIS_VERSION:
        at = datetime.now(timezone.utc).isoformat()
        found = {**diagnose(ctx, run_id, county), "at": at}
        runpage.store_unplaced(ctx.driver, run_id, county, {k: v for k, v in found.items() if k != "at"}, at,
                               ctx.database)
    return found


def unplaced(ctx: Context, principal: Principal, run_id: str, skip: int, limit: int, county: str | None = None,
             binding: str | None = None, *, facts: RequestFacts | None = None,
             action: str = "match_runs.unplaced") -> dict:
    """A page of the county's households with no feasible pairing, each with its binding constraint (key and
    words) and the reason per mechanism; the counts by binding constraint, the total and when it was diagnosed."""
    _visible_run(ctx, principal, run_id)
    if binding is not None and binding not in BINDING_LABELS:
        raise Invalid("约束类型无效 / unknown binding constraint", "invalid_binding")
    record = _county(ctx, principal, run_id, county)
    diagnosis = _diagnosis(ctx, run_id, record["code"])
    rows = [row for row in diagnosis["rows"] if binding is None or row[1] == binding]
    page = rows[skip:skip + limit]
    found = {item["household_id"]: item for item in runpage.households_by_id(
        ctx.driver, [row[0] for row in page], ctx.database)}
    presented = _present(ctx, principal, [found[row[0]] for row in page if row[0] in found], facts, action)
    items = []
    for row, household in zip([row for row in page if row[0] in found], presented):
        items.append({"household": household, "binding": row[1], "binding_label": BINDING_LABELS[row[1]],
                      "reasons": {Mechanism(code).label: BINDING_LABELS.get(reason, "可行") if reason else "可行"
                                  for code, reason in row[2].items()}})
    return {"items": items, "total": len(rows), "diagnosed_at": diagnosis["at"],
            "open_households": diagnosis["open_households"],
            "counts": [{"binding": key, "label": BINDING_LABELS[key], "households": diagnosis["counts"].get(key, 0)}
                       for key in FIXABILITY if diagnosis["counts"].get(key)]}


def capacity(ctx: Context, principal: Principal, run_id: str, county: str | None = None) -> list[dict]:
    """Per enterprise of the county or named by the run's lists there, per mechanism it offers: places (its
    capacity in households), in force and awaiting confirmation now, assigned by the run (and of those still
    proposed: not accepted, confirmed or declined since), used (in force + awaiting + still proposed), left, and
    the rate used / places."""
    _visible_run(ctx, principal, run_id)
    record = _county(ctx, principal, run_id, county)
    rows = []
    for found in runpage.capacity_use(ctx.driver, run_id, record["code"], ctx.database):
        enterprise = found["enterprise"]
        offered = list(enterprise.get("mechanisms") or [])
        for code in sorted(set(found["assigned"]) - set(offered)):
            offered.append(code)  # assigned by the run, no longer offered
        mechanisms = []
        for code in offered:
            try:
                rule = CAPACITY[Mechanism(code)]
            except ValueError:
                continue
            places = rule.places(enterprise.get(rule.field))
            open_ = [p for p in found["open_partnerships"] if p.get("mechanism") == code]
            in_force = sum(1 for p in open_ if p["status"] == PartnershipStatus.IN_FORCE.value)
            awaiting = sum(1 for p in open_ if p["status"] == PartnershipStatus.AWAITING_CONFIRMATION.value)
            assigned = found["assigned"].count(code)
            proposed = found["proposed"].count(code)  # assigned, not acted on yet: not yet a partnership
            used = in_force + awaiting + proposed
            mechanisms.append({"mechanism": code, "mechanism_label": Mechanism(code).label, "places": places,
                               "in_force": in_force, "awaiting": awaiting, "assigned": assigned,
                               "proposed": proposed, "used": used, "left": max(places - used, 0),
                               "rate": round(used / places, 4) if places else None})
        if mechanisms:
            places = sum(item["places"] for item in mechanisms)
            used = sum(item["used"] for item in mechanisms)
            rows.append({"credit_code": enterprise["credit_code"], "name": enterprise.get("name"),
                         "places": places, "used": used, "rate": round(used / places, 4) if places else None,
                         "assigned": sum(item["assigned"] for item in mechanisms), "mechanisms": mechanisms})
    rows.sort(key=lambda row: (-(row["rate"] or 0), row["credit_code"]))
    return rows
