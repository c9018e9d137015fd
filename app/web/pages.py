"""The pages: bureau dashboard, household finder and page, match runs, uploads, ledger; the enterprise's page.

Every page reads through the API's own helpers (app/api), so the roles, scopes, masking and
audit rules are the same ones."""
from flask import flash, jsonify, redirect, render_template, request, send_file, url_for
from pydantic import ValidationError

from app.api import enterprises as enterprise_api
from app.api import households as household_api
from app.api import partnerships as ledger_api
from app.api import recommendations as recommendation_api
from app.api import runs as run_api
from app.api import uploads as upload_api
from app.api.regions import coverage_of
from app.api.schemas import HouseholdExportQuery, HouseholdQuery, PartnershipExportQuery, PartnershipQuery
from app.auth import AuthError, current_principal
from app.extensions import neo4j_ext
from app.privacy import audit_if_personal, household_view, present_household, present_member
from app.web import bp, charts, page, parse_json
from graph import jobs as queue
from graph import views


def _county() -> str:
    """The county a bureau page shows: the user's own, or the one an admin chose."""
    principal = current_principal()
    if principal.role == "bureau":
        return principal.county_code
    return request.args.get("county") or _first_county()


def _first_county() -> str:
    from graph import matching as matching_queries

    counties = matching_queries.counties_with_households(neo4j_ext.driver, neo4j_ext.database)
    if not counties:
        raise AuthError(404, "no_data", "图中还没有贫困户数据，请先上传。")
    return counties[0]["code"]


def _query(model, args):
    """A validated query model from the form's GET parameters (empty fields are absent)."""
    values = {key: value for key, value in args.items() if value != ""}
    try:
        return model(**values), None
    except ValidationError as error:
        fields = "、".join(str(item["loc"][0]) for item in error.errors())
        return model(), f"筛选条件有误：{fields}"


@bp.get("/dashboard")
@page("bureau", "admin")
def dashboard():
    """County dashboard: coverage by township and mechanism, trend across runs, map."""
    county = _county()
    driver, database = neo4j_ext.driver, neo4j_ext.database
    region = (views.regions(driver, [county], database) or [{"code": county, "name": county}])[0]
    total = coverage_of(views.coverage_by(driver, "county_code", "county_code", county, database).get(county))
    townships = views.child_regions(driver, county, database)
    by_township = views.coverage_by(driver, "township_code", "county_code", county, database)
    rows = [{"name": t["name"] or t["code"], **coverage_of(by_township.get(t["code"])).model_dump()} for t in townships
            if t["code"] in by_township]
    mechanisms = views.mechanism_counts(driver, "county_code", county, database)
    from core.codes import Mechanism

    mechanism_items = [(m.label, mechanisms.get(m.value, 0)) for m in Mechanism]
    history = views.county_run_history(driver, county, 30, database)
    trend = [(run["created_at"][:16].replace("T", " "), parse_json(run.get("metrics")).get("coverage_with_existing", 0.0))
             for run in history]
    by_village = views.coverage_by(driver, "village_code", "county_code", county, database)
    villages = [{**v, **by_village[v["code"]]} for v in views.regions(driver, list(by_village), database)]
    enterprises, _ = views.search_enterprises(driver, {"county_code": county}, 0, 500, database)
    return render_template(
        "dashboard.html", region=region, total=total,
        township_chart=charts.coverage_bars(rows, f"{region['name']}各乡镇覆盖情况"),
        mechanism_chart=charts.simple_bars(mechanism_items, "履约中的利益联结（按联结方式）", " 个"),
        trend_chart=charts.trend_line(trend, "历次匹配方案覆盖率（含已有联结）"),
        map_chart=charts.village_map(villages, enterprises, f"{region['name']}村与企业分布"),
        rows=rows, mechanism_items=mechanism_items)


@bp.get("/households")
@page("bureau", "admin", "analyst")
def households():
    """Household finder: filters as in the API, a page of results, export."""
    query, error = _query(HouseholdQuery, request.args)
    principal = current_principal()
    county = query.county or (principal.county_code if principal.role == "bureau" else None)
    records, total = household_api.search(query)
    view = household_view(principal)
    items = [present_household(record, view) for record in records]
    audit_if_personal(principal, "web.households.search", items)
    townships = views.child_regions(neo4j_ext.driver, county, neo4j_ext.database) if county else []
    villages = (views.child_regions(neo4j_ext.driver, query.township, neo4j_ext.database)
                if query.township else [])
    pages = max((total + query.page_size - 1) // query.page_size, 1)
    return render_template("households.html", items=items, total=total, query=query, error=error,
                           townships=townships, villages=villages, pages=pages, args=request.args)


@bp.get("/households/<household_id>")
@page("bureau", "admin")
def household(household_id):
    """A household: members, need, partnerships, recommended enterprises with reasons; confirm a pairing."""
    if len(household_id) > 64:
        raise AuthError(404, "not_found", "未找到该户。")
    record = household_api.visible_household(household_id)
    view = household_view(current_principal())
    shown = present_household(record, view)
    audit_if_personal(current_principal(), "web.households.detail", [shown])
    members = [present_member(member, view) for member in record["member_list"]]
    return render_template("household.html", household=shown, members=members,
                           partnerships=record["partnership_list"], recommendations=record["recommendation_list"])


@bp.post("/recommendations/<rec_id>/confirm")
@page("bureau", "admin", "enterprise")
def confirm(rec_id):
    """Confirm (bureau) or accept (enterprise) a recommendation; back to where it was done."""
    decision = recommendation_api.accept(rec_id)
    flash("已确认联结，已写入帮扶台账。" if decision.status == "confirmed" else "已接受，等待商务局确认。")
    return redirect(request.form.get("back") if (request.form.get("back") or "").startswith("/") else url_for("web.index"))


@bp.post("/recommendations/<rec_id>/decline")
@page("bureau", "admin", "enterprise")
def decline(rec_id):
    """Decline a recommendation with a reason."""
    reason = (request.form.get("reason") or "").strip()
    if not reason or len(reason) > 500:
        flash("请填写拒绝原因（500 字以内）。", "error")
    else:
        recommendation_api.decline(rec_id, reason)
        flash("已拒绝，原因已记录。")
    return redirect(request.form.get("back") if (request.form.get("back") or "").startswith("/") else url_for("web.index"))


@bp.get("/runs")
@page("bureau", "admin")
def runs():
    """Match runs of the county; start one and watch its progress."""
    county = _county()
    jobs, _ = queue.list_jobs(neo4j_ext.driver, "match", [county], 0, 20, neo4j_ext.database)
    return render_template("runs.html", jobs=[run_api.present_job(job) for job in jobs], county=county)


@bp.post("/runs")
@page("bureau", "admin")
def start_run():
    """Queue a run for the county (it runs in the background)."""
    county = request.form.get("county") or _county()
    job = run_api.start_run(county, top_k=5, household_limit=1, force=request.form.get("force") == "1")
    flash("匹配已排队，正在后台运行。")
    return redirect(url_for("web.runs", highlight=job["job_id"]))


@bp.get("/jobs/<job_id>/status")
@page("bureau", "admin")
def job_status(job_id):
    """A job's status as JSON, polled by the pages' progress bars."""
    kind = "match" if job_id.startswith("match-") else "upload"
    return jsonify(run_api.present_job(run_api.visible_job(job_id, kind)))


@bp.get("/uploads")
@page("bureau", "admin")
def uploads():
    """Upload a data file and read its validation report."""
    principal = current_principal()
    county = principal.county_code if principal.role == "bureau" else None
    jobs, _ = queue.list_jobs(neo4j_ext.driver, "upload", [county] if county else None, 0, 20, neo4j_ext.database)
    return render_template("uploads.html", jobs=[run_api.present_job(job) for job in jobs])


@bp.post("/uploads")
@page("bureau", "admin")
def upload():
    """Accept the file and queue its load."""
    file = request.files.get("file")
    if file is None or not file.filename:
        flash("请选择要上传的文件。", "error")
        return redirect(url_for("web.uploads"))
    job = upload_api.accept_upload(file, request.form.get("full") == "1")
    flash("文件已上传，正在后台校验与加载。")
    return redirect(url_for("web.uploads", highlight=job["job_id"]))


@bp.get("/uploads/<job_id>/report.csv")
@page("bureau", "admin")
def upload_report(job_id):
    """The upload's validation report."""
    return send_file(upload_api.report_path(job_id), mimetype="text/csv", as_attachment=True,
                     download_name=f"{job_id}-report.csv")


@bp.get("/ledger")
@page("bureau", "admin")
def ledger():
    """The ledger (帮扶台账) with income outcomes; edit a row; export."""
    query, error = _query(PartnershipQuery, request.args)
    records, total = ledger_api.search(query)
    items = [ledger_api.present_partnership(record) for record in records]
    audit_if_personal(current_principal(), "web.ledger.search", items)
    pages = max((total + query.page_size - 1) // query.page_size, 1)
    gained = [item["income_gain"] for item in items if item.get("income_gain") is not None]
    return render_template("ledger.html", items=items, total=total, query=query, error=error, pages=pages,
                           args=request.args, average_gain=sum(gained) / len(gained) if gained else None)


@bp.post("/ledger/<partnership_id>")
@page("bureau", "admin")
def update_ledger(partnership_id):
    """Save a row's income gain and status."""
    changes = {}
    try:
        if request.form.get("income_gain"):
            changes["income_gain"] = float(request.form["income_gain"])
            if not 0 <= changes["income_gain"] <= 1_000_000:
                raise ValueError
        if request.form.get("status") in ("01", "02", "03", "04"):
            changes["status"] = request.form["status"]
    except ValueError:
        flash("年增收须为 0 到 1,000,000 之间的数字。", "error")
        return redirect(request.referrer or url_for("web.ledger"))
    ledger_api.update(partnership_id, changes)
    flash("台账已更新。")
    back = request.form.get("back") or ""
    return redirect(back if back.startswith("/") else url_for("web.ledger"))


@bp.get("/ledger/export.xlsx")
@page("bureau", "admin")
def export_ledger():
    """The filtered ledger as XLSX (up to 20,000 rows)."""
    query, _ = _query(PartnershipExportQuery, {**request.args, "page": "1", "page_size": "20000"})
    return ledger_api.export(query, "web.ledger.export")


@bp.get("/households/export.xlsx")
@page("bureau", "admin")
def export_households():
    """The filtered households as XLSX (up to 20,000 rows)."""
    query, _ = _query(HouseholdExportQuery, {**request.args, "page": "1", "page_size": "20000"})
    return household_api.export(query, "web.households.export")


@bp.get("/enterprise")
@page("enterprise")
def enterprise_home():
    """The enterprise's offers and capacity, recommended households (masked) and confirmed partnerships."""
    principal = current_principal()
    code = principal.credit_code
    record = views.enterprise_detail(neo4j_ext.driver, code, neo4j_ext.database)
    if record is None:
        raise AuthError(404, "not_found", "未找到本企业的数据。")
    offers = enterprise_api.offers_of(record)
    recs, rec_total = views.search_recommendations(
        neo4j_ext.driver, {"credit_code": code, "status": request.args.get("status") or "proposed"}, 0, 100,
        neo4j_ext.database)
    shown = [enterprise_api.present_recommendation(rec) for rec in recs]
    audit_if_personal(principal, "web.enterprise.recommendations", [item["household"] for item in shown])
    partnerships, _ = views.search_partnerships(neo4j_ext.driver, {"credit_code": code}, 0, 100, neo4j_ext.database)
    confirmed = [ledger_api.present_partnership(p) for p in partnerships]
    audit_if_personal(principal, "web.enterprise.partnerships", confirmed)
    return render_template("enterprise.html", enterprise=record, offers=offers, recommendations=shown,
                           rec_total=rec_total, partnerships=confirmed, status=request.args.get("status") or "proposed")
