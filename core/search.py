"""What a search box's text asks for: a household head's name, a 户编号 prefix or the last four characters of an
ID number; the keyed hash of such a suffix; the full-text query of a name.

One `q` decides (classify): 4 digits, or 3 digits and X, are an ID number's last four characters; other digits
are the beginning of a 户编号; anything else is a name (Chinese characters, Latin letters, the middle dot of
ethnic names, spaces). Full-width digits and letters are read as ASCII. Pure functions, no project imports.
"""
import enum
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

MAX_LENGTH = 30
# What the box is called on every page and in every error message.
LABEL = "搜索（户主姓名、户编号或证件号后四位）"

_SUFFIX = re.compile(r"\d{4}|\d{3}X")
_DIGITS = re.compile(r"\d{1,20}")
# CJK ideographs (basic, extension A, compatibility), Latin letters, the middle dots of transliterated names.
_NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z·•・ ]+")
_NAME_PARTS = re.compile(r"[·•・ ]+")
_IDEOGRAPH = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NAME_CHARS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z\uff21-\uff3a\uff41-\uff5a"
_DIGIT_CHARS = "0-9\uff10-\uff19"  # with the full-width digits, read as ASCII (normalise)
_SEPARATORS = " ·•・\u3000\uff65"
# The texts classify accepts, written as they are usually typed (ASCII digits; full-width forms are read too): the
# API documents q with it, so a client (or a schema-driven test) knows exactly what is answered rather than refused.
QUERY_PATTERN = (rf"^(?:[{_DIGIT_CHARS}]{{1,20}}|[{_DIGIT_CHARS}]{{3}}[Xx\uff38\uff58]"
                 rf"|[{_SEPARATORS}]*[{_NAME_CHARS}][{_NAME_CHARS}{_SEPARATORS}]*)$")
# An organisation's name as typed in a search: ideographs, letters, digits, spaces, middle dots, brackets, hyphens.
NAME_WORDS_PATTERN = "^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z0-9·•・()（） -]*$"
# The hashed text is prefixed so that it can never equal a whole ID number's hash (same key, other purpose).
_SUFFIX_DOMAIN = b"id-suffix:"


class SearchMode(enum.Enum):
    """What a search text is taken for."""

    NAME = "name"                  # 户主姓名: full-text (Chinese-aware)
    HOUSEHOLD_PREFIX = "prefix"    # 户编号 prefix
    ID_SUFFIX = "id_suffix"        # 证件号码后四位, matched by its keyed hash


class InvalidSearch(ValueError):
    """A search text that is neither a name, a 户编号 prefix nor an ID suffix (the message is Chinese)."""


@dataclass(frozen=True)
class Search:
    """A classified search: its mode and its normalised text."""

    mode: SearchMode
    text: str

    @property
    def personal(self) -> bool:
        """Whether it looks for a person (name or ID number) rather than a record number."""
        return self.mode != SearchMode.HOUSEHOLD_PREFIX


def normalise(text: str) -> str:
    """Full-width forms as ASCII (ＮＦＫＣ), runs of spaces as one, trimmed; X upper-cased."""
    folded = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"\s+", " ", folded).strip()


def classify(text: str | None) -> Search | None:
    """The search a box's text asks for; None for an empty box; InvalidSearch for anything else."""
    if text is None:
        return None
    value = normalise(text)
    if not value:
        return None
    if len(value) > MAX_LENGTH:
        raise InvalidSearch(f"{LABEL}最多 {MAX_LENGTH} 个字")
    compact = value.replace(" ", "").upper()
    if _SUFFIX.fullmatch(compact):
        return Search(SearchMode.ID_SUFFIX, compact)
    if _DIGITS.fullmatch(compact):
        return Search(SearchMode.HOUSEHOLD_PREFIX, compact)
    if compact.isalnum() and any(ch.isdigit() for ch in compact):
        raise InvalidSearch(f"{LABEL}有误：户编号只含数字，证件号后四位为 4 位数字或 3 位数字加 X")
    if _NAME.fullmatch(value) and _NAME_PARTS.sub("", value):
        return Search(SearchMode.NAME, value)
    raise InvalidSearch(f"{LABEL}有误：只能填写户主姓名、户编号或证件号码后四位")


def plain_words(text: str | None) -> str | None:
    """An organisation's name as words for a full-text query: punctuation read as spaces (None: nothing typed);
    InvalidSearch when too long or when no word is left."""
    value = normalise(text or "")
    if not value:
        return None
    if len(value) > MAX_LENGTH:
        raise InvalidSearch(f"搜索（名称）最多 {MAX_LENGTH} 个字")
    words = re.sub(r"[^\w]+|_", " ", value).strip()
    if not words:
        raise InvalidSearch("搜索（名称）有误：请填写名称中的字词")
    return words


def suffix_hash(suffix: str, key: bytes) -> str:
    """Keyed HMAC-SHA256 of an ID number's last four characters (upper-cased): stored and searched for instead of
    the characters themselves."""
    return hmac.new(key, _SUFFIX_DOMAIN + suffix.upper().encode("ascii"), hashlib.sha256).hexdigest()


def id_suffix(number: str | None) -> str | None:
    """The last four characters of a normalised ID number (upper-cased), None when there are not four."""
    if not isinstance(number, str):
        return None
    value = number.strip().upper()
    return value[-4:] if len(value) >= 4 else None


def name_terms(name: str) -> list[str]:
    """The Lucene query terms of a name for a `cjk`-analysed field: each part (split at spaces and middle dots)
    as a phrase, so its characters must stand together in that order; a single ideograph as a prefix term
    (the cjk analyser indexes ideographs in pairs, so 张 finds 张三丰 through 张*). Parts contain only
    ideographs and letters (classify), so nothing needs escaping."""
    terms = []
    for part in _NAME_PARTS.split(name):
        if not part:
            continue
        if len(part) == 1 and _IDEOGRAPH.fullmatch(part):
            terms.append(f"{part}*")
        else:
            terms.append(f'"{part.lower()}"')
    return terms


def fulltext_query(field: str, name: str, filters: dict[str, str] | None = None) -> str:
    """A Lucene query: every term of the name in `field`, and each filter field equal to its value (codes of
    digits and letters, matched as one token)."""
    clauses = [f"{field}:{term}" for term in name_terms(name)]
    for filter_field, value in (filters or {}).items():
        if not re.fullmatch(r"[0-9A-Za-z]+", value or ""):
            raise ValueError(f"not a code: {value!r}")
        clauses.append(f'{filter_field}:"{value}"')
    return " AND ".join(clauses)
