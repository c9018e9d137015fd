"""What can go wrong in a use case, independent of HTTP.

Each error carries a stable `code` (the API's problem `code`) and a message in Chinese with English
after a slash. app/problems.py maps the classes to HTTP statuses in one table.
"""


class ServiceError(Exception):
    """A use case refused or failed; `code` is stable, `message` is for people."""

    default_code = "error"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code


class NotFound(ServiceError):
    """The thing does not exist, or lies outside the caller's scope (its existence is not revealed)."""

    default_code = "not_found"

    @classmethod
    def of(cls, what: str = "资源") -> "NotFound":
        """'未找到该<what>' with the standard code."""
        return cls(f"未找到该{what} / not found")


class Forbidden(ServiceError):
    """The caller's role or scope does not allow this."""

    default_code = "forbidden"


class Conflict(ServiceError):
    """The action does not fit the current state (already decided, no capacity left …)."""

    default_code = "conflict"


class Unsupported(ServiceError):
    """The input is of a kind that is not supported (e.g. a file type)."""

    default_code = "unsupported"


class Invalid(ServiceError):
    """The input is well-formed but not acceptable (e.g. nothing to update)."""

    default_code = "invalid"


class Unauthenticated(ServiceError):
    """No credentials, or credentials that are unknown or revoked."""

    default_code = "unauthenticated"


class TooManyAttempts(ServiceError):
    """Too many failed attempts from this client; try again later."""

    default_code = "too_many_failed_logins"


ALL_ERRORS = (NotFound, Forbidden, Conflict, Unsupported, Invalid, Unauthenticated, TooManyAttempts)
