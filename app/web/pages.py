"""The pages: bureau dashboard, household finder and page, match runs, uploads, ledger; the enterprise's page.

Every page calls the service functions (services/) with the signed-in principal, so the roles, scopes,
masking and audit rules are the API's; a ServiceError becomes a Chinese error page in `page()`."""
from flask import flash, jsonify, redirect, render_template, request, url_for
from pydantic import ValidationError

from app.api.schemas import (FollowUpQuery, HouseholdExportQuery, HouseholdQuery, PartnershipExportQuery,
                             PartnershipQuery, WarningQuery)
from app.auth import current_principal, request_facts
from app.downloads import download, report_download
from app.extensions import neo4j_ext
from app.web import bp, charts, chinese_part, page
from app.web.lists import beyond_last_page, page_count, parse_query
from app.web.security import safe_redirect_target, same_site_path
from core import coverage
from core.codes import CoverageState, PartnershipStatus, RecommendationStatus
from services import (column_mappings, enterprises, followups, households, ledger, match_rules, offers, outcomes,
                      recommendations, regions, runs, uploads, warnings)
from services import run_page as run_page_service
from services.errors import Invalid, ServiceError
from services.households import HouseholdFilter
from services.ledger import MAX_INCOME_GAIN, PartnershipFilter
from services.principal import STAFF

EXPORT_ROWS = {"page": "1", "page_size": "20000"}
RECENT_JOBS = 20
RECENT_OFFER_CHANGES = 20


# Errors of a search box's text: the list shows the message and no rows.
SEARCH_ERRORS = ("invalid_search", "search_forbidden", "county_required")


def _export_query(model, args):
    """The export's query model; a wrong filter is refused (an export never widens to every row)."""
    query, error = parse_query(model, args)
    if error:
        raise Invalid(error, "invalid_filter")
    return query


def _listed(read, error: str | None) -> tuple[list, int, str | None]:
    """(items, total, error) of read() — none when the filters were invalid (error), never the unfiltered list;
    a search box's refused text (services/search.py) becomes the page's message too."""
    if error:
        return [], 0, error
    try:
        items, total = read()
    except ServiceError as refused:
        if refused.code not in SEARCH_ERRORS:
            raise
        return [], 0, refused.message.rsplit(" / ", 1)[0]
    return items, total, None


def _back(default: str):
    """Redirect to the form's `back` path when it is a path of this site, else to default."""
    return redirect(safe_redirect_target(request.form.get("back")) or default)


def _referrer(default: str):
    """Redirect to the page the form was sent from when it is on this site, else to default."""
    return redirect(same_site_path(request.referrer, request.host) or default)


def page_county() -> str:
    """The county a bureau page shows: the user's own, or the one an admin chose (else the first with data)."""
    return regions.page_county(neo4j_ext.context, current_principal(), request.args.get("county"))


@bp.get("/dashboard")
@page("bureau", "admin")
def dashboard():
    """County dashboard: coverage by township and mechanism, trend across runs, map."""
    ctx, principal, county = neo4j_ext.context, current_principal(), page_county()
    figures = regions.dashboard(ctx, principal, county)
    name = figures["region"]["name"]
    return render_template(
        "dashboard.html", warning_overview=warnings.overview(ctx, principal, county),
        followup_summary=followups.summary(ctx, principal, county), **_dashboard_charts(figures, name))


# The township table's sortable columns (sorted here: a county has a few dozen townships).
TOWNSHIP_SORTS = ("name", "households", *(state.value for state in CoverageState), "coverage_rate")


def _households_link(county: str, state: str | None = None, **where) -> str:
    """The household finder filtered to the households behind a figure (a coverage state, a region)."""
    return url_for("web.households", county=county, coverage=state, **where)


def _dashboard_charts(figures: dict, name: str) -> dict:
    county = figures["region"]["code"]
    rows = list(figures["townships"])
    sort, order = request.args.get("tsort"), request.args.get("torder", "asc")
    if sort in TOWNSHIP_SORTS:
        rows.sort(key=lambda row: (row[sort] is None, row[sort] if row[sort] is not None else 0),
                  reverse=order == "desc")
    trend = [{**point, "href": url_for("web.run_page", run_id=point["run_id"])} for point in figures["trend"]]
    return dict(
        region=figures["region"], total=figures["total"], glossary=coverage.GLOSSARY,
        township_chart=charts.coverage_bars(
            figures["townships"], f"{name}各乡镇覆盖情况",
            link=lambda row, state: _households_link(county, state, township=row["code"])),
        mechanism_chart=charts.simple_bars(figures["mechanisms"], "履约中的利益联结（按联结方式）", " 个"),
        trend_chart=charts.trend_line(trend, "历次匹配后的履约中与已规划占比", series=(
            (CoverageState.CONFIRMED.value, CoverageState.CONFIRMED.label, charts.PALETTE["covered"]),
            (CoverageState.PLANNED.value, CoverageState.PLANNED.label, charts.PALETTE["planned"]))),
        map_chart=charts.village_map(figures["villages"], figures["enterprises"], f"{name}村与企业分布",
                                     link=lambda village: _households_link(county, village=village["code"])),
        rows=rows, tsort=sort, torder=order, mechanism_items=figures["mechanisms"],
        columns_by_state=[(state.value, state.label) for state in CoverageState],
        households_link=lambda state=None, **where: _households_link(county, state, **where))


@bp.get("/warnings", endpoint="warnings")
@page("bureau", "admin", "analyst")
def warnings_page():
    """The county's early warnings by township; the households behind the chosen one; the enterprises flagged."""
    ctx, principal = neo4j_ext.context, current_principal()
    county = page_county()
    overview = warnings.overview(ctx, principal, county)
    query, error = parse_query(WarningQuery, {key: value for key, value in request.args.items()
                                              if key in ("page", "page_size", "township")})
    codes = [item["warning"] for item in overview["household_warnings"]]
    chosen = request.args.get("warning")
    if chosen not in codes:
        chosen = next((item["warning"] for item in overview["household_warnings"] if item["households"]), codes[0])
    items, total = [], 0
    if not error:
        items, total = warnings.households(ctx, principal, county, chosen, query.township, query.skip,
                                           query.page_size, facts=request_facts(), action="web.warnings.households")
        if (last := beyond_last_page("web.warnings", query.page, total, query.page_size)) is not None:
            return last
    return render_template("warnings.html", overview=overview, chosen=chosen, items=items, total=total, query=query,
                           error=error, pages=page_count(total, query.page_size), county=county,
                           terminated=PartnershipStatus.TERMINATED.value,
                           chosen_label=next(item["label"] for item in overview["household_warnings"]
                                             if item["warning"] == chosen))


@bp.get("/warnings/export.xlsx")
@page("bureau", "admin")
def export_warnings():
    """A warning's households as XLSX."""
    query = _export_query(WarningQuery, {key: value for key, value in request.args.items() if key == "township"})
    return download(warnings.export(neo4j_ext.context, current_principal(), page_county(),
                                    request.args.get("warning", ""), query.township, facts=request_facts(),
                                    action="web.warnings.export"))


@bp.get("/followups", endpoint="followups")
@page("bureau", "admin", "analyst")
def followups_page():
    """The county's follow-up queue, soonest due first: close an item with a reason; re-match the county."""
    ctx, principal = neo4j_ext.context, current_principal()
    county = page_county()
    query, error = parse_query(FollowUpQuery, {key: value for key, value in request.args.items() if key != "county"})
    items, total, error = _listed(
        lambda: followups.queue(ctx, principal, county, query.status, query.reason, query.township, query.skip,
                                query.page_size, facts=request_facts(), action="web.followups.queue", q=query.q),
        error)
    if not error and (last := beyond_last_page("web.followups", query.page, total, query.page_size)) is not None:
        return last
    return render_template("followups.html", items=items, total=total, query=query, error=error, county=county,
                           pages=page_count(total, query.page_size), summary=followups.summary(ctx, principal, county),
                           args={key: value for key, value in request.args.items() if key != "page"})


@bp.post("/followups/close")
@page("bureau", "admin")
def close_followup():
    """Close an item with the reason typed."""
    followups.close(neo4j_ext.context, current_principal(), request.form.get("followup_id", ""),
                    request.form.get("reason", ""), facts=request_facts(), action="web.followups.close")
    flash("跟进事项已关闭。")
    return _back(url_for("web.followups"))


@bp.post("/followups/rematch")
@page("bureau", "admin")
def rematch_followups():
    """An incremental run of the county: its follow-up households are planned first."""
    job = followups.rematch(neo4j_ext.context, current_principal(), request.form.get("county") or page_county())
    flash("已排队重新匹配：本县的跟进户优先安排。")
    return redirect(url_for("web.runs", highlight=job["job_id"]))


@bp.get("/households", endpoint="households")
@page("bureau", "admin", "analyst")
def households_page():
    """Household finder: filters as in the API, a page of results, export."""
    query, error = parse_query(HouseholdQuery, request.args)
    ctx, principal = neo4j_ext.context, current_principal()
    items, total, error = _listed(
        lambda: households.search(ctx, principal, HouseholdFilter.from_mapping(query.model_dump()), query.skip,
                                  query.page_size, facts=request_facts(), action="web.households.search"), error)
    if not error and (last := beyond_last_page("web.households", query.page, total, query.page_size)) is not None:
        return last
    county = query.county or principal.county_code
    return render_template("households.html", items=items, total=total, query=query, error=error,
                           townships=regions.subregions(ctx, principal, county),
                           villages=regions.subregions(ctx, principal, query.township),
                           pages=page_count(total, query.page_size), args=request.args.to_dict())


@bp.get("/households/<household_id>")
@page("bureau", "admin")
def household(household_id):
    """A household: members, need, partnerships, recommended enterprises with reasons; confirm a pairing."""
    detail = households.get(neo4j_ext.context, current_principal(), household_id, facts=request_facts(),
                            action="web.households.detail")
    return render_template("household.html", household=detail, members=detail["member_list"],
                           partnerships=detail["partnership_list"], recommendations=detail["recommendation_list"])


@bp.post("/recommendations/<rec_id>/confirm")
@page("bureau", "admin", "enterprise")
def confirm(rec_id):
    """Confirm (bureau) or accept (enterprise) a recommendation; back to where it was done."""
    decision = recommendations.accept(neo4j_ext.context, current_principal(), rec_id)
    flash("已确认联结，已写入帮扶台账。" if decision.status == RecommendationStatus.CONFIRMED
          else "已接受，等待商务局确认。")
    return _back(url_for("web.index"))


@bp.post("/recommendations/<rec_id>/decline")
@page("bureau", "admin", "enterprise")
def decline(rec_id):
    """Decline a recommendation with a reason."""
    reason = (request.form.get("reason") or "").strip()
    if not reason or len(reason) > recommendations.MAX_REASON_LENGTH:
        flash("请填写拒绝原因（500 字以内）。", "error")
    else:
        recommendations.decline(neo4j_ext.context, current_principal(), rec_id, reason)
        flash("已拒绝，原因已记录。")
    return _back(url_for("web.index"))


@bp.get("/runs", endpoint="runs")
@page("bureau", "admin")
def runs_page():
    """Match runs of the county; start one and watch its progress; the county's match rules and the limits its
    ledger suggests."""
    county = page_county()
    jobs, total = runs.list_runs(neo4j_ext.context, current_principal(), county, 0, RECENT_JOBS)
    for position, job in enumerate(jobs):
        job["sequence"] = total - position  # 第 N 次: the county's runs, oldest first
    rules = match_rules.county_rules(neo4j_ext.context, current_principal(), county)
    applicable = any(limit["suggested"] is not None and limit["suggested"] != limit["current"]
                     for limit in rules["limits"])
    return render_template("runs.html", jobs=jobs, county=county, rules=rules, applicable=applicable,
                           glossary=coverage.GLOSSARY)


RUN_PAGE_SIZE = 20


def _page_arg(name: str = "page") -> int:
    try:
        return max(int(request.args.get(name, 1)), 1)
    except ValueError:
        return 1


@bp.get("/runs/<run_id>", endpoint="run_page")
@page("bureau", "admin")
def run_page(run_id):
    """One match run: parameters and model, coverage by township, unplaced households with their binding
    constraint, capacity use per enterprise, the change from the run before it."""
    ctx, principal = neo4j_ext.context, current_principal()
    county = request.args.get("county") or None
    found = run_page_service.summary(ctx, principal, run_id, county)
    unplaced = capacity = None
    binding = request.args.get("binding") or None
    number = _page_arg()
    if found["county"]:
        county = found["county"]["code"]
        unplaced = run_page_service.unplaced(
            ctx, principal, run_id, (number - 1) * RUN_PAGE_SIZE, RUN_PAGE_SIZE, county,
            binding if binding in run_page_service.BINDING_LABELS else None, facts=request_facts(),
            action="web.match_runs.unplaced")
        capacity = run_page_service.capacity(ctx, principal, run_id, county)
    return render_template("run.html", found=found, run=found["run"], place=found["county"], unplaced=unplaced,
                           capacity=capacity, binding=binding, page_number=number,
                           pages=page_count(unplaced["total"], RUN_PAGE_SIZE) if unplaced else 1,
                           glossary=coverage.GLOSSARY,
                           households_link=lambda state=None, **where: _households_link(county, state, **where))


@bp.get("/runs/<run_id>/changes", endpoint="run_changes")
@page("bureau", "admin")
def run_changes(run_id):
    """The households a run newly planned, or no longer planned, against the run before it (a page)."""
    ctx, principal = neo4j_ext.context, current_principal()
    kind = request.args.get("kind", "newly_planned")
    if kind not in run_page_service.CHANGE_LABELS:
        kind = "newly_planned"
    county = request.args.get("county") or None
    found = run_page_service.summary(ctx, principal, run_id, county)
    number = _page_arg()
    items, total = run_page_service.changes(ctx, principal, run_id, kind, (number - 1) * RUN_PAGE_SIZE,
                                            RUN_PAGE_SIZE, county, facts=request_facts(),
                                            action="web.match_runs.changes")
    return render_template("run_changes.html", found=found, run=found["run"], place=found["county"], items=items,
                           total=total, kind=kind, kind_label=run_page_service.CHANGE_LABELS[kind],
                           page_number=number, pages=page_count(total, RUN_PAGE_SIZE))


@bp.post("/runs/rules")
@page("bureau", "admin")
def apply_match_rules():
    """Apply the chosen suggestions as the county's next rules version (its next run uses them)."""
    county = request.form.get("county") or page_county()
    chosen = request.form.getlist("field")
    if not chosen:
        flash("请勾选要应用的建议。", "error")
        return redirect(url_for("web.runs", county=county))
    try:
        result = match_rules.apply_rules(neo4j_ext.context, current_principal(), county, chosen,
                                         facts=request_facts())
    except ServiceError as error:  # no suggestion any more, changed meanwhile …: said on the page itself
        flash(error.message.split(" / ")[0], "error")
        return redirect(url_for("web.runs", county=county))
    titles = {limit["field"]: limit["title"] for limit in result["limits"]}
    if result["applied"]:
        flash(f"已应用建议（{'、'.join(titles[name] for name in result['applied'])}），成为本县规则第 "
              f"{result['version']} 版；下次匹配按新规则计算。")
    else:
        flash("所选建议与当前规则相同，未作改动。")
    return redirect(url_for("web.runs", county=county))


@bp.post("/runs")
@page("bureau", "admin")
def start_run():
    """Queue a run for the county (it runs in the background)."""
    county = request.form.get("county") or page_county()
    job = runs.start(neo4j_ext.context, current_principal(), county, top_k=5, household_limit=1,
                     force=request.form.get("force") == "1")
    flash("匹配已排队，正在后台运行。")
    return redirect(url_for("web.runs", highlight=job["job_id"]))


@bp.get("/jobs/<job_id>/status")
@page("bureau", "admin")
def job_status(job_id):
    """A job's status as JSON, polled by the pages' progress bars."""
    status = runs.job_status(neo4j_ext.context, current_principal(), job_id)
    # The page shows the message as it is: in Chinese only (the CLI's messages carry English after " / ").
    return jsonify({**status, "message": chinese_part(status.get("message") or "")})


@bp.get("/uploads", endpoint="uploads")
@page("bureau", "admin")
def uploads_page():
    """Upload a data file and read its validation report."""
    principal = current_principal()
    jobs, _ = uploads.list_uploads(neo4j_ext.context, principal, None, 0, RECENT_JOBS)
    county = _mapping_county()
    mappings = column_mappings.list_mappings(neo4j_ext.context, principal, county) if county else []
    return render_template("uploads.html", jobs=jobs, highlight=request.args.get("highlight"), mappings=mappings,
                           mapping_county=county, template_kinds=uploads.template_kinds(),
                           choices=column_mappings.field_choices(),
                           unmapped=column_mappings.unmapped_columns(jobs, mappings) if county else [])


def _mapping_county() -> str | None:
    """The county whose column mappings the upload page shows and saves: a bureau's own; an administrator's
    choice (else the first county with data; None before any)."""
    try:
        return page_county()
    except ServiceError:
        return None


@bp.post("/uploads/mappings")
@page("bureau", "admin")
def save_column_mapping():
    """Save a column mapping for the county's later uploads."""
    try:
        saved = column_mappings.save_mapping(neo4j_ext.context, current_principal(), request.form.get("kind", ""),
                                             request.form.get("header", ""), request.form.get("field", ""),
                                             request.form.get("county") or None)
    except ServiceError as error:  # a header already recognised, an unknown field …: said on the page itself
        flash(error.message.split(" / ")[0], "error")
    else:
        flash(f"已保存：此后上传的文件中，列“{saved['header']}”读作"
              f"{column_mappings.field_choices()[saved['kind']]['fields'][saved['field']]}。重新上传该文件即可按此读取。")
    return redirect(url_for("web.uploads", county=request.form.get("county") or None))


@bp.post("/uploads/mappings/delete")
@page("bureau", "admin")
def delete_column_mapping():
    """Delete one of the county's column mappings."""
    column_mappings.delete_mapping(neo4j_ext.context, current_principal(), request.form.get("mapping_id", ""),
                                   request.form.get("county") or None)
    flash("已删除该列对应。")
    return redirect(url_for("web.uploads", county=request.form.get("county") or None))


@bp.post("/uploads")
@page("bureau", "admin")
def upload():
    """Accept the file and queue its load; an empty or unreadable file, or a 全量 load not confirmed, is refused
    with the reason on the page."""
    file = request.files.get("file")
    if file is None or not file.filename:
        flash("请选择要上传的文件。", "error")
        return redirect(url_for("web.uploads"))
    try:
        job = uploads.accept(neo4j_ext.context, current_principal(), file.filename, file.save,
                             request.form.get("full") == "1", request.form.get("confirm_full") == "1")
    except ServiceError as error:
        flash(f"未上传：{error.message.split(' / ')[0]}", "error")
        return redirect(url_for("web.uploads"))
    flash("文件已上传，正在后台校验与加载。")
    return redirect(url_for("web.uploads", highlight=job["job_id"]))


@bp.get("/uploads/templates/<kind>.xlsx")
@page("bureau", "admin")
def upload_template(kind):
    """下载模板: the kind's official Chinese columns and an example row the load skips."""
    return download(uploads.template(kind))


@bp.get("/uploads/<job_id>/report.csv")
@page("bureau", "admin")
def upload_report(job_id):
    """The upload's validation report."""
    ctx, principal = neo4j_ext.context, current_principal()
    path = uploads.report_path(ctx, principal, job_id)
    return report_download(path, job_id, uploads.uploaded_filename(uploads.get(ctx, principal, job_id)))


@bp.get("/ledger", endpoint="ledger")
@page("bureau", "admin")
def ledger_page():
    """The ledger (帮扶台账) with income outcomes; edit a row; export."""
    query, error = parse_query(PartnershipQuery, request.args)
    items, total, error = _listed(
        lambda: ledger.search(neo4j_ext.context, current_principal(), PartnershipFilter.from_mapping(query.model_dump()),
                              query.skip, query.page_size, facts=request_facts(), action="web.ledger.search"), error)
    if not error and (last := beyond_last_page("web.ledger", query.page, total, query.page_size)) is not None:
        return last
    pages = page_count(total, query.page_size)
    gained = [item["income_gain"] for item in items if item.get("income_gain") is not None]
    return render_template("ledger.html", items=items, total=total, query=query, error=error, pages=pages,
                           args=request.args, average_gain=sum(gained) / len(gained) if gained else None)


@bp.get("/ledger/<partnership_id>")
@page("bureau", "admin")
def ledger_detail(partnership_id):
    """One ledger row: 年增收 by year, the edit form (年增收, 状态, 结束日期, 帮扶措施) and its 变更记录. A page of its own
    (works without JavaScript); with `?part=dialog` only the form and history, which the ledger opens in a dialog."""
    found = ledger.detail(neo4j_ext.context, current_principal(), partnership_id, facts=request_facts(),
                          action="web.ledger.detail")
    back = safe_redirect_target(request.args.get("back")) or url_for("web.ledger")
    template = "_ledger_detail.html" if request.args.get("part") == "dialog" else "ledger_detail.html"
    # `entry`, not `item`: base.html has a macro of that name.
    return render_template(template, back=back, max_gain=MAX_INCOME_GAIN, entry=found.pop("item"), **found)


def _ledger_form_changes(current: dict) -> dict:
    """The fields of the edit form that differ from the row as it is (ValueError: a gain out of range)."""
    form, changes = request.form, {}
    if "income_gain" in form:
        text = form["income_gain"].strip()
        gain = float(text) if text else None
        if gain is not None and not 0 <= gain <= MAX_INCOME_GAIN:
            raise ValueError
        if gain is not None and gain != current.get("income_gain"):
            changes["income_gain"] = gain
    if form.get("status") in PartnershipStatus.codes() and form["status"] != current.get("status"):
        changes["status"] = form["status"]
    for field in ("end_date", "note"):
        if field in form:
            value = form[field].strip() or None
            if value != (current.get(field) or None):
                changes[field] = value
    return changes


@bp.post("/ledger/<partnership_id>")
@page("bureau", "admin")
def update_ledger(partnership_id):
    """Save a row's 年增收, 状态, 结束日期 and 帮扶措施; the message names the row (as the role sees it)."""
    ctx, principal = neo4j_ext.context, current_principal()
    current = ledger.get(ctx, principal, partnership_id, facts=request_facts(), action="web.ledger.detail")
    try:
        changes = _ledger_form_changes(current)
    except ValueError:
        flash("年增收须为 0 到 1,000,000 之间的数字。", "error")
        return _referrer(url_for("web.ledger"))
    if not changes:
        flash(f"未作修改：{ledger.row_name(current)}")
        return _back(url_for("web.ledger"))
    try:
        saved = ledger.update(ctx, principal, partnership_id, changes, facts=request_facts(),
                              action="web.ledger.update", source="page")
    except ServiceError as error:  # a date that is not a date, a note with control characters: said on the page
        flash(f"未保存（{ledger.row_name(current)}）：{error.message.split(' / ')[0]}", "error")
        return _referrer(url_for("web.ledger"))
    flash(f"已保存：{ledger.row_name(saved)}")
    return _back(url_for("web.ledger"))


@bp.get("/ledger/export.xlsx")
@page("bureau", "admin")
def export_ledger():
    """The filtered ledger as XLSX (up to 20,000 rows)."""
    query = _export_query(PartnershipExportQuery, {**request.args, **EXPORT_ROWS})
    return download(ledger.export(neo4j_ext.context, current_principal(),
                                  PartnershipFilter.from_mapping(query.model_dump()), query.skip, query.page_size,
                                  facts=request_facts(), action="web.ledger.export"))


@bp.get("/outcomes", endpoint="outcomes")
@page("bureau", "analyst", "admin")
def outcomes_page():
    """帮扶成效: the county's stored outcomes (tables per dimension, the income-change comparison, the method);
    staff may recompute them."""
    report = outcomes.county_outcomes(neo4j_ext.context, current_principal(), page_county())
    return render_template("outcomes.html", report=report, can_refresh=current_principal().role in STAFF)


@bp.post("/outcomes")
@page("bureau", "admin")
def refresh_outcomes():
    """Recompute the county's outcomes now (重新计算) and show them."""
    county = request.form.get("county") or page_county()
    report = outcomes.refresh_county(neo4j_ext.context, current_principal(), county)
    flash(f"帮扶成效已重新计算（用时 {report['seconds']:.1f} 秒）。")
    return redirect(url_for("web.outcomes", county=county))


@bp.get("/households/export.xlsx")
@page("bureau", "admin")
def export_households():
    """The filtered households as XLSX (up to 20,000 rows)."""
    query = _export_query(HouseholdExportQuery, {**request.args, **EXPORT_ROWS})
    return download(households.export(neo4j_ext.context, current_principal(),
                                      HouseholdFilter.from_mapping(query.model_dump()), query.skip, query.page_size,
                                      facts=request_facts(), action="web.households.export"))


def int_arg(name: str, default: int) -> int:
    """A whole-number GET parameter ≥ 1; anything else (absent, not a number, 0 or negative) is the default.

    Very long numbers are read as 10**12 (the service answers a page beyond the end with the last page)."""
    value = request.args.get(name, "").strip()
    if not (value.isascii() and value.isdigit()):
        return default
    number = int(value) if len(value) <= 12 else 10 ** 12
    return number if number >= 1 else default


@bp.get("/enterprise")
@page("enterprise")
def enterprise_home():
    """The enterprise's offers and capacity, recommended households (masked) and confirmed partnerships,
    each list a page at a time (rec_page, partner_page; page_size 20, 50 or 100; status kept in the links)."""
    status = request.args.get("status") or RecommendationStatus.PROPOSED.value
    page_size = enterprises.page_size_of(int_arg("page_size", enterprises.PAGE_SIZES[0]))
    own = enterprises.overview(neo4j_ext.context, current_principal(), status, facts=request_facts(),
                               rec_page=int_arg("rec_page", 1), partner_page=int_arg("partner_page", 1),
                               page_size=page_size, q=(request.args.get("q") or "").strip() or None)
    offer = offers.get_offer(neo4j_ext.context, current_principal(), current_principal().credit_code)
    changes, changes_total = offers.offer_changes(neo4j_ext.context, current_principal(),
                                                  current_principal().credit_code, 0, RECENT_OFFER_CHANGES)
    return render_template("enterprise.html", enterprise=own["enterprise"], offers=own["offers"],
                           recommendations=own["recommendations"], rec_total=own["rec_total"],
                           partnerships=own["partnerships"], status=status, rec_page=own["rec_page"],
                           q=(request.args.get("q") or "").strip(),
                           partner_page=own["partner_page"], page_size=page_size,
                           page_sizes=enterprises.PAGE_SIZES, offer=offer, offer_fields=offers.FIELDS,
                           offer_changes=[{**change, "lines": offers.change_lines(change["changes"])}
                                          for change in changes], offer_changes_total=changes_total)


def offer_message(result: dict) -> str:
    """What a saved offer form did, in Chinese: the fields changed and the counties that will be re-matched."""
    if not result["changed"]:
        return "帮扶供给与原来相同，未作改动。"
    titles = "、".join(offers.FIELDS[name].title for name in result["changed"])
    job = result.get("job")
    if job:
        return f"帮扶供给已更新（{titles}）。将重新匹配：{'、'.join(job['county_names'])}。"
    if result["replans"]:
        return f"帮扶供给已更新（{titles}）。可达范围内没有有贫困户的县，暂不重新匹配。"
    return f"帮扶供给已更新（{titles}）。匹配所用的内容未变，无须重新匹配。"


@bp.post("/enterprise/offer")
@page("enterprise")
def update_own_offer():
    """Save the enterprise's offer form: recorded with who and when; the counties it reaches are re-matched."""
    form = {name: request.form.get(name, "") for name in offers.FIELDS if name != "mechanisms"}
    form["mechanisms"] = request.form.getlist("mechanisms")
    principal = current_principal()
    try:
        result = offers.update_offer(neo4j_ext.context, principal, principal.credit_code, offers.form_changes(form),
                                     facts=request_facts(), action="web.enterprise.offer.update")
    except ServiceError as error:  # a figure out of range, changed meanwhile …: said on the page itself
        flash(error.message.split(" / ")[0], "error")
        return redirect(url_for("web.enterprise_home", _anchor="offer"))
    flash(offer_message(result))
    if result["changed"] and result["unrecognised_products"]:
        flash(f"以下收购产品不在产业词表中，匹配时用不上：{'、'.join(result['unrecognised_products'])}。", "error")
    return redirect(url_for("web.enterprise_home", _anchor="offer"))
