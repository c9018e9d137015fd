"""The audit log of unmasked personal-data reads (admin only)."""
from graph import access
from services.context import Context
from services.principal import Principal, Role, require_role


def list_events(ctx: Context, principal: Principal, skip: int, limit: int) -> tuple[list[dict], int]:
    """A page of audit events, newest first, and the total."""
    require_role(principal, Role.ADMIN)
    return access.audit_events(ctx.driver, skip, limit, ctx.database)
