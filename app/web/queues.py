"""The working day's pages: the bureau's 待办 (pairings awaiting confirmation, with 批量确认 and 退回 with a
reason; links to the households the current run left uncovered and to the follow-ups) and every user's
站内通知. The services (services/queue.py, services/notifications.py) keep the API's rules."""
from flask import flash, redirect, render_template, request, url_for

from app.auth import current_principal, request_facts
from app.extensions import neo4j_ext
from app.web import bp, chinese_part, nav_counts, page
from app.web.lists import beyond_last_page, page_count
from app.web.pages import int_arg, page_county
from services import notifications, queue, regions
from services.errors import ServiceError

PAGE_SIZES = (20, 50, 100)


def _page_size() -> int:
    size = int_arg("page_size", PAGE_SIZES[0])
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


@bp.get("/queue", endpoint="queue")
@page("bureau", "admin")
def queue_page():
    """待办: the county's pairings awaiting confirmation, a page of households at a time."""
    ctx, principal, county = neo4j_ext.context, current_principal(), page_county()
    page_number, page_size = int_arg("page", 1), _page_size()
    items, total = queue.awaiting(ctx, principal, county, (page_number - 1) * page_size, page_size,
                                  facts=request_facts(), action="web.queue.awaiting")
    if (last := beyond_last_page("web.queue", page_number, total, page_size)) is not None:
        return last
    counts = nav_counts()  # the navigation's, read once for the request
    uncovered = regions.get_region(ctx, principal, county)["coverage"]["uncovered"]
    return render_template("queue.html", items=items, total=total, page=page_number, page_size=page_size,
                           pages=page_count(total, page_size), county=county, counts=counts, uncovered=uncovered,
                           args={key: value for key, value in request.args.items()},
                           max_batch=queue.MAX_BATCH)


@bp.post("/queue/confirm")
@page("bureau", "admin")
def confirm_awaiting():
    """批量确认 the ticked pairings; each is judged on its own, the refusals are listed."""
    chosen = request.form.getlist("partnership_id")
    result = queue.confirm(neo4j_ext.context, current_principal(), chosen, facts=request_facts())
    if result.confirmed:
        flash(f"已确认 {len(result.confirmed)} 条联结，已进入履约中。")
    for failure in result.failed:
        flash(f"有 1 条未能确认：{chinese_part(failure['message'])}", "error")
    return redirect(url_for("web.queue", **{key: value for key, value in request.args.items()}))


@bp.post("/queue/reject")
@page("bureau", "admin")
def reject_awaiting():
    """退回 one pairing with a reason (the enterprise is told)."""
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        flash("请填写退回原因。", "error")
    else:
        try:
            queue.reject(neo4j_ext.context, current_principal(), request.form.get("partnership_id", ""), reason,
                         facts=request_facts())
            flash("已退回，原因已告知企业。")
        except ServiceError as error:
            flash(chinese_part(error.message), "error")
    return redirect(url_for("web.queue"))


@bp.get("/notifications", endpoint="notifications")
@page("bureau", "enterprise")
def notifications_page():
    """站内通知, newest first."""
    page_number, page_size = int_arg("page", 1), _page_size()
    items, counts = notifications.page(neo4j_ext.context, current_principal(), (page_number - 1) * page_size,
                                       page_size)
    if (last := beyond_last_page("web.notifications", page_number, counts["total"], page_size)) is not None:
        return last
    return render_template("notifications.html", items=items, counts=counts, page=page_number,
                           page_size=page_size, pages=page_count(counts["total"], page_size),
                           args={key: value for key, value in request.args.items()})


@bp.post("/notifications/read")
@page("bureau", "enterprise")
def read_notifications():
    """Mark one notification (notification_id) or all read."""
    chosen = request.form.get("notification_id")
    marked = notifications.mark_read(neo4j_ext.context, current_principal(), [chosen] if chosen else None)
    flash(f"已将 {marked} 条通知标为已读。")
    return redirect(url_for("web.notifications"))
