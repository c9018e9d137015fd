"""Who is calling: a role and its scope (a bureau's county, an enterprise's credit code).

Roles: bureau (one county), enterprise (one enterprise), analyst (read-only, pseudonymised),
admin (everything).
"""
from dataclasses import dataclass
from enum import StrEnum

from services.errors import Forbidden


class Role(StrEnum):
    BUREAU = "bureau"
    ENTERPRISE = "enterprise"
    ANALYST = "analyst"
    ADMIN = "admin"


ROLES: tuple[str, ...] = tuple(role.value for role in Role)
ROLE_NAMES = {Role.BUREAU: "商务局", Role.ENTERPRISE: "企业", Role.ANALYST: "分析员", Role.ADMIN: "管理员"}
# Roles that may see households unmasked (a bureau only inside its county).
STAFF = (Role.BUREAU, Role.ADMIN)
EVERYONE = tuple(Role)


@dataclass(frozen=True)
class Principal:
    """The caller: a token's identity, role and scope."""

    token_id: str
    name: str
    role: str
    county_code: str | None = None
    credit_code: str | None = None

    @property
    def actor(self) -> str:
        """How the caller is named in the ledger and the audit log."""
        return f"{self.role}:{self.token_id}"

    def in_county(self, county_code: str | None) -> bool:
        """False only for a bureau looking at another county."""
        return self.role != Role.BUREAU or county_code == self.county_code


def require_role(principal: Principal, *roles: str) -> None:
    """Refuse callers whose role is not among roles (403 forbidden_role)."""
    if principal.role not in roles:
        raise Forbidden(f"{ROLE_NAMES.get(principal.role, principal.role)}账号无权执行此操作 / role not allowed",
                        "forbidden_role")


def scoped_county(principal: Principal, requested: str | None) -> str | None:
    """The county a list may cover: a bureau's own (another is refused); for others the one asked (None = all)."""
    if principal.role == Role.BUREAU:
        if requested is not None and requested != principal.county_code:
            raise Forbidden("只能查看本县数据 / outside your county", "outside_jurisdiction")
        return principal.county_code
    return requested
