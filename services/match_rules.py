"""Per-county eligibility rules for matching: the current limits, the limits the county's own ledger suggests
(matching/calibrate.py), and applying suggestions or set values as a new version.

Who: a bureau reads and changes its own county's rules (another county's are not found), an administrator any
county's, an analyst reads them; enterprises neither. A change writes the county's next CountyRules version
(never editing an earlier one) stamped with who and when, and an audit event; the county's next match run plans
under it (matching/run.py reads the current version per county, and the run records which version it used).
"""
from collections.abc import Sequence
from datetime import datetime, timezone

from graph import match_rules as queries
from matching.calibrate import (FIELDS, LIMITS, LIMITS_BY_FIELD, MIN_PARTNERSHIPS, QUANTILE, fit_county_rules,
                                out_of_bounds)
from matching.rules import EligibilityRules
from services.context import Context
from services.errors import Conflict, Invalid, NotFound
from services.jobs import requester
from services.principal import STAFF, Principal, Role, require_role
from services.privacy import RequestFacts, audit_events, audit_log
from services.regions import check_scope

__all__ = ["ALL", "FIELDS", "LIMITS", "apply_rules", "county_rules"]

READERS = (Role.BUREAU, Role.ANALYST, Role.ADMIN)
ALL = "all"  # apply every suggestion there is
HISTORY = 20  # earlier versions shown with the current rules
DEFAULTS = EligibilityRules()  # what a county without rules of its own matches under (jobs run MatchParams())
VERSION_FIELDS = ("version", "values", "changes", "applied_by", "applied_at")


def _county(ctx: Context, principal: Principal, code: str) -> dict:
    """The county the caller asks about, if it may (a bureau: its own; NotFound otherwise or when unknown)."""
    check_scope(principal, code)
    region = queries.county_region(ctx.driver, code, ctx.database)
    if region is None:
        raise NotFound.of("县")
    return region


def _current(ctx: Context, county: str) -> tuple[EligibilityRules, dict | None]:
    """The county's rules now and the version that sets them (None: the defaults)."""
    stored = queries.current_county_rules(ctx.driver, [county], ctx.database).get(county)
    return (DEFAULTS.with_values(stored["values"]) if stored else DEFAULTS), stored


def _suggestions(ctx: Context, county: str, rules: EligibilityRules) -> list:
    return fit_county_rules(queries.partnership_evidence(ctx.driver, county, ctx.database), rules, DEFAULTS)


def _present(ctx: Context, region: dict) -> dict:
    county = region["code"]
    rules, stored = _current(ctx, county)
    history = queries.county_rules_history(ctx.driver, county, HISTORY, ctx.database)
    return {
        "county_code": county, "county_name": region.get("name"),
        "version": stored["version"] if stored else None,
        "applied_by": stored.get("applied_by") if stored else None,
        "applied_at": stored.get("applied_at") if stored else None,
        "quantile": QUANTILE, "min_partnerships": MIN_PARTNERSHIPS,
        "limits": [suggestion.as_dict() for suggestion in _suggestions(ctx, county, rules)],
        "history": [{name: version.get(name) for name in VERSION_FIELDS} for version in history],
    }


def county_rules(ctx: Context, principal: Principal, county: str) -> dict:
    """The county's limits: for each, the default, the current value, the suggestion from its ledger (or why
    there is none) and the partnerships it rests on; the current version and the earlier ones."""
    require_role(principal, *READERS)
    return _present(ctx, _county(ctx, principal, county))


def apply_rules(ctx: Context, principal: Principal, county: str, suggested: Sequence[str] | str | None = None,
                values: dict[str, float] | None = None, *, facts: RequestFacts | None = None) -> dict:
    """Apply the ledger's suggestions for the fields named in `suggested` (ALL: every field that has one) and/or
    set `values` (a value given for a field wins over its suggestion), as the county's next rules version.
    Nothing that already holds is written again: the result's `applied` names the fields that changed (empty:
    no new version). Returns the county's rules as county_rules shows them."""
    require_role(principal, *STAFF)
    region = _county(ctx, principal, county)
    values = dict(values or {})
    if suggested is None:
        suggested = []
    elif isinstance(suggested, str) and suggested != ALL:
        suggested = [suggested]
    if not suggested and not values:
        raise Invalid("请选择要应用的建议，或填写取值 / name the suggestions to apply or the values to set",
                      "nothing_to_apply")
    unknown = [name for name in ([] if suggested == ALL else suggested) if name not in FIELDS]
    if unknown:
        raise Invalid(f"不能调整的规则：{'、'.join(unknown)} / not an adjustable limit", "unknown_field")
    refused = out_of_bounds(values)
    if refused:
        ranges = "；".join(f"{LIMITS_BY_FIELD[name].title} {LIMITS_BY_FIELD[name].floor:g}–"
                          f"{LIMITS_BY_FIELD[name].ceiling:g} {LIMITS_BY_FIELD[name].unit}"
                          if name in LIMITS_BY_FIELD else name for name in refused)
        raise Invalid(f"取值超出允许范围：{ranges} / values out of bounds", "out_of_bounds")
    rules, stored = _current(ctx, region["code"])
    suggestions = {suggestion.field: suggestion for suggestion in _suggestions(ctx, region["code"], rules)}
    if suggested == ALL:
        suggested = [name for name, suggestion in suggestions.items() if suggestion.suggested is not None]
        if not suggested and not values:
            raise Conflict("本县台账中的联结不足，暂无可应用的建议 / no suggestions: too few partnerships",
                           "no_suggestion")
    missing = [name for name in suggested if name not in values and suggestions[name].suggested is None]
    if missing:
        reasons = "；".join(f"{suggestions[name].title}：{suggestions[name].reason.split(' / ')[0]}" for name in missing)
        raise Conflict(f"没有可应用的建议（{reasons}）/ no suggestion for {', '.join(missing)}", "no_suggestion")
    wanted = {name: (suggestions[name].suggested, "suggested") for name in suggested}
    wanted.update({name: (float(value), "set") for name, value in values.items()})
    changes = {name: {"from": getattr(rules, name), "to": to, "source": source}
               for name, (to, source) in wanted.items() if to != getattr(rules, name)}
    if changes:
        record = {"applied_by": requester(principal), "applied_by_actor": principal.actor,
                  "applied_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        try:
            queries.append_county_rules(ctx.driver, region["code"], stored["version"] if stored else 0, changes,
                                        record, ctx.database)
        except queries.RulesVersionTaken:
            raise Conflict("本县规则刚被他人修改，请刷新后再试 / the rules changed meanwhile: reload and try again",
                           "rules_changed") from None
        audit_log(ctx).append([{key: value for key, value in event.items() if value is not None}
                               for event in audit_events(principal, "match_rules.apply", [], facts or RequestFacts())])
    return {**_present(ctx, region), "applied": sorted(changes)}
