"""The audit log of unmasked personal-data reads (admin only)."""
from graph import access
from services.context import Context
from services.principal import Principal, Role, require_role
from services.privacy import audit_log


def list_events(ctx: Context, principal: Principal, skip: int, limit: int) -> tuple[list[dict], int]:
    """A page of audit events, newest first, and the total."""
    require_role(principal, Role.ADMIN)
    audit_log(ctx).flush()  # this process's spooled events are listed too (others' follow within a second)
    return access.audit_events(ctx.driver, skip, limit, ctx.database)
