"""Who am I: the caller's role and scope."""
from app.api import api, dump, tag
from app.api.schemas import MeOut
from app.auth import current_principal, requires
from services.principal import ROLES


@api.get("/me", tags=tag("身份 identity", "当前令牌的角色与范围"), responses={200: MeOut})
@requires(*ROLES)
def me():
    """当前调用者的角色与管辖范围 / the caller's role and scope."""
    principal = current_principal()
    return dump(MeOut(token_id=principal.token_id, name=principal.name, role=principal.role,
                      county_code=principal.county_code, credit_code=principal.credit_code))
