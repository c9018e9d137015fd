"""An enterprise's offer (帮扶供给) kept by itself: capacity per mechanism, skill needs and products bought, changed
on its page or through the API, each change recorded (who, when, what) and followed by a match run of the counties
the enterprise reaches.

Who may change it: the enterprise itself (its own offer only; another's is not found), bureau staff of the
enterprise's county (an enterprise of another county they can see is refused), administrators; analysts never.
A change that leaves every value as it is records nothing and queues nothing. A real change writes, in one
transaction (graph/offers.py), the new values, the BUYS relationships of the products bought, an OfferChange and —
when a field matching reads changed (mechanisms, capacities, skill, the industries of the products bought) — one
queued incremental match job of the counties with households that can reach the enterprise under their rules,
or the queued job that already names exactly those counties.

The enterprise file still rules: an unchanged row loaded again leaves a self-service change alone, a changed row
(or one the ETL warns about, which it writes again every time) overwrites the offer (graph/offers.py keeps the row
hash for that).
"""
import math
import re
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from core.codes import LabourSkill, Mechanism
from core.industries import industry_code
from etl.formats import ENTERPRISES
from etl.values import LIST_SEPARATORS
from graph import jobs as queue
from graph import match_rules as rule_queries
from graph import matching as matching_queries
from graph import offers as queries
from graph import views
from matching.reach import neighbour_counties
from services import enterprises, jobs
from services.context import Context
from services.errors import Conflict, Forbidden, Invalid, NotFound
from services.match_rules import DEFAULTS
from services.principal import EVERYONE, Principal, Role, require_role
from services.privacy import RequestFacts, audit_events, audit_log
from services.text import plain_text

EDITORS = (Role.ENTERPRISE, Role.BUREAU, Role.ADMIN)
MAX_PRODUCTS = 20  # products bought: a list, not an essay
MAX_PRODUCT_LENGTH = 30
PHONE_LIKE = re.compile(r"\d{7,}")  # a product name holds no phone number (free text never stores one)
RUN_PARAMS = {"top_k": 5, "household_limit": 1, "force": False}  # as a bureau's run from the runs page


@dataclass(frozen=True)
class OfferField:
    """A field of the offer: its Enterprise property, its title as the enterprise file heads it, its kind and
    (numbers) the bounds the file's column has."""

    name: str
    title: str
    kind: str  # codes, code, integer, decimal, products
    minimum: float | None = None
    maximum: float | None = None


_COLUMNS = {column.name: column for column in ENTERPRISES.columns}
_KINDS = {"mechanisms": "codes", "jobs_offered": "integer", "contract_households": "integer",
          "land_wanted_mu": "decimal", "equity_households": "integer", "ecommerce_households": "integer",
          "households_capacity": "integer", "skill_required": "code", "products_bought": "products"}
# In the order the page and the history list them.
FIELDS: dict[str, OfferField] = {
    name: OfferField(name, _COLUMNS[name].header, kind, _COLUMNS[name].minimum, _COLUMNS[name].maximum)
    for name, kind in _KINDS.items()}
NUMBERS = tuple(name for name, field in FIELDS.items() if field.kind in ("integer", "decimal"))
# What matching reads of an offer (graph.matching.county_enterprises): a change of one of these re-plans.
MATCHING_FIELDS = ("mechanisms", "jobs_offered", "contract_households", "land_wanted_mu", "equity_households",
                   "ecommerce_households", "skill_required", "bought_codes")


def figure(value: float) -> str:
    """A number as people write it: 1,000,000 and 45.5, never 1e+06."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _invalid(field: OfferField, chinese: str, english: str) -> Invalid:
    return Invalid(f"{field.title}：{chinese} / {field.name}: {english}", "invalid_offer")


def _number(field: OfferField, value) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _invalid(field, "须为数字", "must be a number")
    if not field.minimum <= value <= field.maximum:
        raise _invalid(field, f"须在 {figure(field.minimum)} 到 {figure(field.maximum)} 之间",
                       f"must be from {figure(field.minimum)} to {figure(field.maximum)}")
    if field.kind == "integer":
        if value != int(value):
            raise _invalid(field, "须为整数", "must be a whole number")
        return int(value)
    return float(value)


def _mechanisms(field: OfferField, value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise _invalid(field, "须为联结方式代码的列表", "must be a list of mechanism codes")
    codes = set()
    for item in value:
        found = Mechanism.parse(item) if isinstance(item, str) else None
        if found is None:
            choices = "、".join(f"{code} {label}" for code, label in Mechanism.labels().items())
            raise _invalid(field, f"无效的联结方式“{item}”（可选：{choices}）", "unknown mechanism code")
        codes.add(found.value)
    return [code for code in Mechanism.codes() if code in codes]  # in code order


def _skill(field: OfferField, value) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    found = LabourSkill.parse(value) if isinstance(value, str) else None
    if found is None:
        choices = "、".join(f"{code} {label}" for code, label in LabourSkill.labels().items())
        raise _invalid(field, f"无效的技能要求“{value}”（可选：{choices}，或留空）", "not a labour skill code")
    return found.value


def split_products(text: str) -> list[str]:
    """Products typed as one text (`猕猴桃、椪柑`), split as the ETL splits a list cell."""
    return [item for item in re.split(LIST_SEPARATORS, text or "") if item]


def _products(field: OfferField, value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise _invalid(field, "须为产品名称的列表", "must be a list of product names")
    products: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise _invalid(field, "产品名称须为文字", "product names must be text")
        plain_text(item, field.title)
        for name in split_products(unicodedata.normalize("NFKC", item)):
            if len(name) > MAX_PRODUCT_LENGTH:
                raise _invalid(field, f"产品名称不能超过 {MAX_PRODUCT_LENGTH} 个字：{name[:MAX_PRODUCT_LENGTH]}…",
                               f"a product name is longer than {MAX_PRODUCT_LENGTH} characters")
            if PHONE_LIKE.search(name):
                raise _invalid(field, "产品名称中不能有电话号码等长串数字", "no phone numbers in product names")
            if name not in products:
                products.append(name)
    if len(products) > MAX_PRODUCTS:
        raise _invalid(field, f"最多 {MAX_PRODUCTS} 种产品", f"at most {MAX_PRODUCTS} products")
    return products


_CHECKS = {"codes": _mechanisms, "code": _skill, "integer": _number, "decimal": _number, "products": _products}


def check_changes(changes: Mapping) -> dict:
    """The changes checked and in their stored form: known fields only, mechanism and skill codes (labels are
    read too), numbers within the enterprise file's bounds (whole numbers where it counts people or households;
    None clears a figure), products as a list of names (each split as a list cell is, duplicates dropped)."""
    unknown = sorted(set(changes) - set(FIELDS))
    if unknown:
        raise Invalid(f"不能修改的字段：{'、'.join(unknown)} / fields that cannot be changed", "unknown_field")
    if not changes:
        raise Invalid("没有要更新的字段 / nothing to update", "nothing_to_update")
    return {name: _CHECKS[FIELDS[name].kind](FIELDS[name], value) for name, value in changes.items()}


def form_changes(form: Mapping[str, object]) -> dict:
    """The changes a web form sends (every value text; `mechanisms` a list of codes): numbers parsed, an empty
    box as no figure, products split; then check_changes. Fields the form does not send are left alone."""
    changes: dict = {}
    for name, field in FIELDS.items():
        if name not in form:
            continue
        value = form[name]
        if field.kind in ("integer", "decimal"):
            text = unicodedata.normalize("NFKC", str(value or "")).strip().replace(",", "")
            try:
                changes[name] = None if not text else float(text)
            except ValueError:
                raise _invalid(field, f"“{text[:20]}”不是数字", "not a number") from None
        elif field.kind == "products":
            changes[name] = [str(value or "")]
        else:
            changes[name] = value
    return check_changes(changes)


def _same(field: str, current, wanted) -> bool:
    if field in NUMBERS:
        return (current is None) == (wanted is None) and (current is None or float(current) == float(wanted))
    if field in ("mechanisms", "bought_codes"):  # sets kept as lists
        return sorted(current or []) == sorted(wanted or [])
    if field == "products_bought":
        return list(current or []) == list(wanted or [])
    return (current or None) == (wanted or None)


def offer_diff(current: Mapping, wanted: Mapping) -> dict[str, dict]:
    """field → {"from": stored value, "to": new value} for each wanted field whose value differs (numbers
    compared as numbers, mechanisms as a set, an empty skill as none)."""
    return {name: {"from": current.get(name), "to": value} for name, value in wanted.items()
            if not _same(name, current.get(name), value)}


def bought_codes(products: list[str]) -> list[str]:
    """Industry codes of products bought (core.industries, as the ETL maps them); unknown names give none."""
    return sorted({code for code in map(industry_code, products) if code})


def unrecognised(products: list[str] | None) -> list[str]:
    """Products not in the industry vocabulary: kept as written, but matching cannot use them."""
    return [name for name in products or [] if industry_code(name) is None]


def replans(current: Mapping, props: Mapping) -> bool:
    """Whether writing `props` changes what matching reads of the enterprise."""
    return any(name in props and not _same(name, current.get(name), props[name]) for name in MATCHING_FIELDS)


def reached_counties(ctx: Context, county_code: str) -> list[dict]:
    """The counties with households whose match runs read an enterprise of `county_code`: those that have it
    among their neighbour counties (matching/reach.py) under their own current rules (the widest radius of a
    county's mechanisms, services/match_rules.py), as a run reads them. Code and name, in code order."""
    counties = matching_queries.counties_with_households(ctx.driver, ctx.database)
    stored = rule_queries.current_county_rules(ctx.driver, [county["code"] for county in counties], ctx.database)
    radius = {county["code"]: (DEFAULTS.with_values(stored[county["code"]]["values"]) if county["code"] in stored
                               else DEFAULTS).search_radius_km() for county in counties}
    near = {km: set(neighbour_counties([county_code], km)) for km in set(radius.values())}
    return [{"code": county["code"], "name": county["name"]} for county in counties
            if county["code"] in near[radius[county["code"]]]]


def _editable(ctx: Context, principal: Principal, credit_code: str) -> dict:
    """The enterprise's offer as stored, if the caller may change it."""
    require_role(principal, *EDITORS)
    enterprises.check_scope(ctx, principal, credit_code)
    current = queries.current_offer(ctx.driver, credit_code, ctx.database)
    if current is None:
        raise NotFound.of("企业")
    if principal.role == Role.BUREAU and current.get("county_code") != principal.county_code:
        raise Forbidden("只能修改本县企业的帮扶供给 / only enterprises of your county", "outside_jurisdiction")
    return current


def _present(ctx: Context, credit_code: str) -> dict:
    """The enterprise's offer now: the fields, the products matching cannot use, the capacity per mechanism."""
    record = views.enterprise_detail(ctx.driver, credit_code, ctx.database)
    if record is None:
        raise NotFound.of("企业")
    shown = {name: record.get(name) for name in ("credit_code", "name", "county_code", *FIELDS, "offer_updated_at",
                                                  "offer_updated_by")}
    shown["mechanisms"] = shown["mechanisms"] or []
    shown["products_bought"] = shown["products_bought"] or []
    shown["unrecognised_products"] = unrecognised(shown["products_bought"])
    shown["offers"] = [asdict(offer) for offer in enterprises.offers_of(record)]
    return shown


def get_offer(ctx: Context, principal: Principal, credit_code: str) -> dict:
    """The enterprise's offer as it stands (everyone who may see the enterprise)."""
    require_role(principal, *EVERYONE)
    enterprises.check_scope(ctx, principal, credit_code)
    return _present(ctx, credit_code)


def update_offer(ctx: Context, principal: Principal, credit_code: str, changes: Mapping, *,
                 facts: RequestFacts | None = None, action: str = "enterprises.offer.update") -> dict:
    """Change the enterprise's offer. Returns the offer as now (get_offer) with `changed` (the fields that
    changed; empty: nothing was recorded or queued), `change_id`, `replans` (whether what matching reads
    changed) and `job` (the queued match run: id, status, counties and their names, `reused` when a queued one
    already named them; None when nothing needs re-planning or no county with households reaches the enterprise)."""
    current = _editable(ctx, principal, credit_code)  # first: whoever may not change it learns nothing more
    checked = check_changes(changes)
    for attempt in range(3):  # the values a change starts from must still hold when it is written
        if attempt:
            current = _editable(ctx, principal, credit_code)
        diff = offer_diff(current, checked)
        if not diff:
            return {**_present(ctx, credit_code), "changed": [], "change_id": None, "job": None, "replans": False}
        props = {name: change["to"] for name, change in diff.items()}
        if "products_bought" in props:
            props["bought_codes"] = bought_codes(props["products_bought"])
        expected = {name: current.get(name) for name in props}
        replanned = replans(current, props)
        reached = reached_counties(ctx, current["county_code"]) if replanned else []
        change_id = f"offer-{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
        job = jobs.new_job(jobs.MATCH, current["county_code"], jobs.requester(principal),
                           {"counties": [county["code"] for county in reached], **RUN_PARAMS,
                            "offer_change": change_id}, actor=principal.actor) if reached else None
        change = {"change_id": change_id, "county_code": current["county_code"],
                  "changed_at": datetime.now(timezone.utc).isoformat(),  # to the microsecond: history order
                  "changed_by": jobs.requester(principal), "changed_by_actor": principal.actor,
                  "changes": diff, "counties": [county["code"] for county in reached]}
        try:
            saved = queries.record_offer_change(ctx.driver, credit_code, expected, props, change, job, ctx.database)
        except queries.OfferChanged:
            continue
        break
    else:
        raise Conflict("帮扶供给刚被他人修改，请刷新后再试 / the offer changed meanwhile: reload and try again",
                       "offer_changed")
    audit_log(ctx).append([{key: value for key, value in event.items() if value is not None}
                           for event in audit_events(principal, action, [], facts or RequestFacts())])
    queued = None
    if saved["job_id"]:
        stored = queue.get_job(ctx.driver, saved["job_id"], ctx.database) or {}
        queued = {"job_id": saved["job_id"], "status": stored.get("status", jobs.QUEUED),
                  "counties": [county["code"] for county in reached],
                  "county_names": [county["name"] or county["code"] for county in reached], "reused": saved["reused"]}
    return {**_present(ctx, credit_code), "changed": [name for name in FIELDS if name in diff],
            "change_id": saved["change"]["change_id"], "job": queued, "replans": replanned}


def present_change(change: Mapping) -> dict:
    """An OfferChange as shown (no token id): who, when, what, the counties it re-plans and their job."""
    return {name: change.get(name) for name in ("change_id", "credit_code", "changed_at", "changed_by", "changes",
                                                  "counties", "job_id")}


def offer_changes(ctx: Context, principal: Principal, credit_code: str, skip: int,
                  limit: int) -> tuple[list[dict], int]:
    """A page of the enterprise's offer changes, newest first (everyone who may see the enterprise)."""
    require_role(principal, *EVERYONE)
    enterprises.check_scope(ctx, principal, credit_code)
    if queries.current_offer(ctx.driver, credit_code, ctx.database) is None:
        raise NotFound.of("企业")
    items, total = queries.offer_changes(ctx.driver, credit_code, skip, limit, ctx.database)
    return [present_change(item) for item in items], total


def value_text(field: str, value) -> str:
    """A recorded value in words: mechanisms and skill by their labels, lists joined with 、, none as —."""
    if value is None or value == [] or value == "":
        return "—"
    if field == "mechanisms":
        return "、".join(Mechanism.label_of(code, str(code)) for code in value)
    if field == "skill_required":
        return LabourSkill.label_of(value, str(value))
    if field == "products_bought":
        return "、".join(str(item) for item in value)
    if isinstance(value, (int, float)):
        return figure(value)
    return str(value)


def change_lines(changes: Mapping[str, Mapping]) -> list[dict]:
    """One line per changed field, in the offer's order: its title and both values in words."""
    return [{"field": name, "title": FIELDS[name].title if name in FIELDS else name,
             "from": value_text(name, change.get("from")), "to": value_text(name, change.get("to"))}
            for name in [*FIELDS, *sorted(set(changes) - set(FIELDS))] if name in changes
            for change in [changes[name]]]
