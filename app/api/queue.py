"""The working day's queues: pairings awaiting the bureau's confirmation (confirm many, send one back with a
reason) and the in-app notifications of the signed-in account."""
from app.api import api, dump, page_of, tag
from app.api.schemas import (AwaitingPage, ConfirmBatchIn, ConfirmBatchOut, CountyPath, NotificationPage,
                             NotificationReadIn, NotificationReadOut, Page, PartnershipPath, RejectIn)
from app.auth import current_principal, request_facts, requires
from app.extensions import neo4j_ext
from services import notifications, queue

QUEUE_TAGS = tag("待办 queue", "企业已接受、等待商务局确认的联结：批量确认，或填写原因退回（告知企业）")
NOTIFICATION_TAGS = tag("通知 notifications", "站内通知：企业接受推荐、商务局确认或退回、匹配运行完成")


@api.get("/counties/<code>/awaiting", tags=QUEUE_TAGS, responses={200: AwaitingPage})
@requires("bureau", "admin")
def list_awaiting(path: CountyPath, query: Page):
    """本县待确认的联结（按户，户编号顺序）/ the county's households with pairings awaiting confirmation."""
    result = queue.awaiting(neo4j_ext.context, current_principal(), path.code, query.skip, query.page_size,
                            facts=request_facts())
    return page_of(AwaitingPage, result, query)


@api.post("/partnerships/confirm", tags=QUEUE_TAGS, responses={200: ConfirmBatchOut})
@requires("bureau", "admin")
def confirm_partnerships(body: ConfirmBatchIn):
    """批量确认待确认的联结（每条单独判断容量与范围，一条失败不影响其余）/ confirm awaiting pairings in one go."""
    result = queue.confirm(neo4j_ext.context, current_principal(), body.partnership_ids, facts=request_facts())
    return dump(ConfirmBatchOut(confirmed=result.confirmed, failed=result.failed))


@api.post("/partnerships/<partnership_id>/reject", tags=QUEUE_TAGS, responses={204: None})
@requires("bureau", "admin")
def reject_partnership(path: PartnershipPath, body: RejectIn):
    """退回一条待确认的联结并说明原因（企业收到通知）/ send an awaiting pairing back with a reason."""
    queue.reject(neo4j_ext.context, current_principal(), path.partnership_id, body.reason, facts=request_facts())
    return "", 204


@api.get("/notifications", tags=NOTIFICATION_TAGS, responses={200: NotificationPage})
@requires("bureau", "enterprise")
def list_notifications(query: Page):
    """本账号的站内通知（最新在前）与未读条数 / the account's notifications, newest first, and the unread count."""
    items, counts = notifications.page(neo4j_ext.context, current_principal(), query.skip, query.page_size)
    return dump(NotificationPage(items=items, total=counts["total"], unread=counts["unread"], page=query.page,
                                 page_size=query.page_size))


@api.post("/notifications/read", tags=NOTIFICATION_TAGS, responses={200: NotificationReadOut})
@requires("bureau", "enterprise")
def read_notifications(body: NotificationReadIn):
    """标为已读（指定的，或全部）/ mark notifications read (those given, or all)."""
    return dump(NotificationReadOut(marked=notifications.mark_read(neo4j_ext.context, current_principal(),
                                                                   body.notification_ids)))
