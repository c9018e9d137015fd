"""In-app notifications (站内通知): who is told what when a pairing moves. Pure vocabulary and wording;
graph/notifications.py stores them, services/notifications.py reads them for a user.

An audience is a county's bureau ("county:<code>") or an enterprise ("enterprise:<credit code>"): every
bureau account of the county, or every account of the enterprise, reads the same list."""
from enum import StrEnum


class NoticeKind(StrEnum):
    PAIRING_ACCEPTED = "pairing_accepted"            # an enterprise accepted a household → the county's bureau
    PARTNERSHIP_CONFIRMED = "partnership_confirmed"  # the bureau confirmed → the enterprise
    PAIRING_REJECTED = "pairing_rejected"            # the bureau rejected an accepted pairing → the enterprise
    RUN_COMPLETED = "run_completed"                  # a match run became current → the county's bureau


TITLES = {
    NoticeKind.PAIRING_ACCEPTED: "企业已接受推荐，待确认",
    NoticeKind.PARTNERSHIP_CONFIRMED: "商务局已确认联结",
    NoticeKind.PAIRING_REJECTED: "商务局未确认联结",
    NoticeKind.RUN_COMPLETED: "匹配运行已完成",
}


def county_audience(county_code: str) -> str:
    return f"county:{county_code}"


def enterprise_audience(credit_code: str) -> str:
    return f"enterprise:{credit_code}"


def audience_of(role: str, county_code: str | None, credit_code: str | None) -> str | None:
    """The list a user reads: a bureau account its county's, an enterprise its own; others none."""
    if role == "bureau" and county_code:
        return county_audience(county_code)
    if role == "enterprise" and credit_code:
        return enterprise_audience(credit_code)
    return None


def notice_text(kind: str, household: str, enterprise: str, mechanism: str, reason: str | None = None) -> str:
    """The notification's sentence in Chinese; household and enterprise as the reader may see them."""
    if kind == NoticeKind.PAIRING_ACCEPTED:
        return f"{enterprise}已接受与{household}的{mechanism}联结，请确认或退回。"
    if kind == NoticeKind.PARTNERSHIP_CONFIRMED:
        return f"商务局已确认与{household}的{mechanism}联结，联结进入履约中。"
    if kind == NoticeKind.PAIRING_REJECTED:
        return f"商务局未确认与{household}的{mechanism}联结。原因：{reason or '未说明'}"
    if kind == NoticeKind.RUN_COMPLETED:
        return "本县的匹配运行已完成，新的推荐已生效。"
    raise ValueError(f"unknown notice kind {kind!r}")
