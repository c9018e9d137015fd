"""The search box (`q`) of every list: what the caller may search by, and the graph search it becomes.

A household search is by 户主姓名, 户编号 prefix or the last four characters of an ID number (core/search.py
decides which); the suffix is hashed with the installation's ID-number key before it reaches the graph, as the
ETL hashes the stored ones. Analysts see households under pseudonyms: they may not search for any household
(a name, an ID number or a 户编号 would tie a pseudonym to a person), so every `q` is refused for them.
"""
from core import search as core_search
from core.search import InvalidSearch, SearchMode
from graph.search import HouseholdMatch
from services.context import Context
from services.errors import Forbidden, Invalid
from services.principal import Principal, Role

LABEL = core_search.LABEL


def parse(text: str | None) -> core_search.Search | None:
    """The classified search (None for none); Invalid with a Chinese message naming the box otherwise."""
    try:
        return core_search.classify(text)
    except InvalidSearch as error:
        raise Invalid(f"{error} / invalid search text", "invalid_search") from None


def check_allowed(principal: Principal, found: core_search.Search | None) -> None:
    """Forbidden for an analyst searching at all (their households are pseudonymised)."""
    if found is not None and principal.role == Role.ANALYST:
        raise Forbidden("分析人员只能看到化名数据，不能按户主姓名、户编号或证件号码查找 / "
                        "analysts see pseudonymised households and cannot search them", "search_forbidden")


def household_match(ctx: Context, principal: Principal, text: str | None, county: str | None,
                    county_required: bool = True) -> HouseholdMatch | None:
    """What the graph searches households by for `text` within `county` (None: all counties the caller sees);
    None when there is no search. Invalid for unreadable text, or an ID suffix without a county (unless not
    county_required: a search among an enterprise's own rows); Forbidden for analysts."""
    found = parse(text)
    check_allowed(principal, found)
    if found is None:
        return None
    if found.mode == SearchMode.NAME:
        scope = {"county_code": county} if county else None
        return HouseholdMatch(SearchMode.NAME, core_search.fulltext_query("head_name", found.text, scope))
    if found.mode == SearchMode.HOUSEHOLD_PREFIX:
        return HouseholdMatch(SearchMode.HOUSEHOLD_PREFIX, found.text)
    if county is None and county_required:
        raise Invalid("按证件号码后四位查找须先选择县 / choose a county to search by ID suffix", "county_required")
    return HouseholdMatch(SearchMode.ID_SUFFIX, core_search.suffix_hash(found.text, ctx.settings.id_hash_secret()))


def enterprise_name_query(text: str | None, county: str | None) -> str | None:
    """The full-text query of an enterprise-name search within `county` (None: no search); Invalid when the
    text holds no word (punctuation is read as a space)."""
    try:
        words = core_search.plain_words(text)
    except InvalidSearch as error:
        raise Invalid(f"{error} / invalid search text", "invalid_search") from None
    if words is None:
        return None
    return core_search.fulltext_query("name", words, {"county_code": county} if county else None)
