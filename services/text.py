"""Checks of what people type, shared by every path into the services (API schemas and web forms)."""
from datetime import date

from services.errors import Invalid
from services.exports import CONTROL_CHARACTERS


def plain_text(text: str, field: str) -> str:
    """Text a person typed: line breaks and tabs are fine, control characters (they break every export) are not."""
    if CONTROL_CHARACTERS.search(text):
        raise Invalid(f"{field}不能包含控制字符 / {field} must not contain control characters", "invalid_text")
    return text


def calendar_date(text: str, field: str) -> str:
    """A date written YYYY-MM-DD that exists (2024-02-29, not 2024-13-45 or 2023-02-29)."""
    try:
        if len(text) != 10:
            raise ValueError
        date.fromisoformat(text)
    except (TypeError, ValueError):
        raise Invalid(f"{field}不是有效日期（YYYY-MM-DD）/ {field} is not a real date", "invalid_date") from None
    return text
