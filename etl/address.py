"""Where a row is, from its address: the county by cpca, the township and village by the names of regions known.

cpca knows provinces, prefectures and counties (core/geography.py); it finds the county an address names, and
the text after it. Townships and villages are not in cpca: their names are those the loaded files gave
(households and villages files create them, etl/regions.py), so the rest of the address is searched for the
names of the townships and villages known in that county. An address is located

- at its village: one known village is named (within the named township, when one is named): no warning;
- at its township: the township is named but no known village of it, or the names fit several villages of
  one township: a warning;
- at its county: no known township or village is named, or the names fit several townships: a warning;
- nowhere: no county (only a province or prefecture, a county name several counties bear, or nothing cpca
  knows): the row is rejected.

cpca runs once per chunk on its distinct addresses; the known names are asked for once per chunk (the counties
found) and tried at each position of an address only when they start with the two characters there.
"""
import re
from collections.abc import Callable
from functools import lru_cache

import cpca
import pandas as pd

from core import geography

# How a row was located (Enterprise / Project location_source): its region code, or its address to this level.
FROM_CODE, FROM_VILLAGE, FROM_TOWNSHIP, FROM_COUNTY = "code", "address-village", "address-township", "address-county"

NOT_A_COUNTY = ("地址无法定位到县（市、区）：请填写行政区划代码，或在地址中写明县（市、区）/ address not resolved to "
                "a county")
SEVERAL_COUNTIES = ("地址中的县名对应多个县（{names}），无法定位：请写明省、市或填写行政区划代码 / the county name in "
                    "the address fits several counties")
TOWNSHIP_ONLY = "地址只定位到乡镇（{place}）：地址中没有该乡镇已加载的村 / address located to its township only"
COUNTY_ONLY = "地址只定位到县（{place}）：地址中没有该县已加载的乡镇或村 / address located to its county only"
SEVERAL_PLACES = ("地址中的地名对应多个{level}（{names}），只定位到{place} / place names in the address fit several "
                  "regions: located to the {english}")

# cpca drops these endings to get a name's short form (吉首市 → 吉首): its own rule (cpca/__init__.py _init_data).
_CPCA_SHORT = re.compile(r"([省市]|特别行政区|自治区)$")
# A county's short form followed by these is another place named after it (新民村 is no 新民市).
_NAMED_AFTER = re.compile(r"(村|镇|乡|街道|社区|居委会|组)")
# Township endings a renaming swaps (撤乡建镇, 撤镇设街道): 迁陵乡 in an address is the 迁陵镇 loaded.
_TOWNSHIP_ENDINGS = ("镇", "乡", "街道")
_TOWNSHIP_STEM = re.compile(r"(.{2,}?)(镇|乡|街道)")


@lru_cache(maxsize=1)
def _counties_by_text() -> dict[str, list[str]]:
    """Every text cpca matches as a county (full name and short form) → the 12-digit codes of counties it names."""
    table = geography.divisions()
    counties = table[(table["level"] == "county") & table["lon"].notna()]  # not cpca's 市辖区 placeholders
    found: dict[str, list[str]] = {}
    for code, name in zip(counties["code"], counties["name"]):
        for text in {name, _CPCA_SHORT.sub("", name)}:
            found.setdefault(text, []).append(code)
    return found


def _county_name(code: str) -> str:
    record = geography.division(code) or {}
    return record.get("name") or code


def _full_name(code: str) -> str:
    """A county's name with its prefecture's or province's (长沙市天心区), to tell apart counties of one name."""
    parents = [geography.division(geography.pad_code(code[:2])), geography.division(geography.pad_code(code[:4]))]
    # cpca's placeholders (市辖区, 县) under a municipality are no names
    return "".join(record["name"] for record in parents if record and record["name"] not in ("市辖区", "县")) \
        + _county_name(code)


def find_counties(addresses: list[str]) -> pd.DataFrame:
    """For each address (distinct ones, in order): its county's 12-digit code (missing when it names none
    that cpca can be sure of), the text after the county, and the reason it is not located when it is not."""
    parsed = cpca.transform(addresses, pos_sensitive=True)
    counties = _counties_by_text()
    codes, rests, errors = [], [], []
    for address, name, adcode, province_at, prefecture_at, county_at in zip(
            addresses, parsed["区"], parsed["adcode"], parsed["省_pos"], parsed["市_pos"], parsed["区_pos"]):
        code, rest, error = None, "", NOT_A_COUNTY
        if isinstance(name, str) and county_at >= 0:
            text = name if address.startswith(name, county_at) else _CPCA_SHORT.sub("", name)
            after = address[county_at + len(text):]
            # Within the province / prefecture the address names (cpca chose the county under it).
            within = adcode[:4] if prefecture_at >= 0 else adcode[:2] if province_at >= 0 else ""
            candidates = [candidate for candidate in counties.get(text, []) if candidate.startswith(within)]
            if text != name and _NAMED_AFTER.match(after):
                pass  # a short form starting another place's name: no county named
            elif len(candidates) > 1:
                error = SEVERAL_COUNTIES.format(names="、".join(_full_name(candidate) for candidate in candidates))
            else:
                code, rest, error = geography.pad_code(adcode), after, None
        codes.append(code)
        rests.append(rest)
        errors.append(error)
    return pd.DataFrame({"county_code": codes, "rest": rests, "error": errors}, index=addresses)


def _place_texts(known: pd.DataFrame) -> dict[str, list[tuple[str, str]]]:
    """Text to look for in an address → the (code, level) of the known townships and villages of a county it
    names: their names and, for a township, its name with another of the township endings (unless that text
    is the name of a region itself)."""
    texts: dict[str, list[tuple[str, str]]] = {}
    for code, name, level in zip(known["code"], known["name"], known["level"]):
        texts.setdefault(name, []).append((code, level))
    variants: dict[str, list[tuple[str, str]]] = {}
    for code, name, level in zip(known["code"], known["name"], known["level"]):
        stem = _TOWNSHIP_STEM.fullmatch(name) if level == "township" else None
        for ending in _TOWNSHIP_ENDINGS if stem else ():
            variant = stem.group(1) + ending
            if variant not in texts:
                variants.setdefault(variant, []).append((code, level))
    return {**texts, **variants}


def _found(rest: str, texts: dict[str, list[tuple[str, str]]],
           by_start: dict[str, list[str]]) -> list[tuple[int, int, str, str]]:
    """Every known name in the text (overlapping ones too): (start, end, code, level) for each place it names.
    by_start: the texts by their first two characters, so each position of the text is tried only with the
    names starting there."""
    return [(start, start + len(text), code, level)
            for start in range(len(rest) - 1) for text in by_start.get(rest[start:start + 2], ())
            if rest.startswith(text, start) for code, level in texts[text]]


def _inside(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    """Whether span lies within one of the other (longer) spans."""
    return any(start <= span[0] and span[1] <= end and (end - start) > (span[1] - span[0]) for start, end in others)


def _place(county: str, found: list[tuple[int, int, str, str]], names: dict[str, str]) -> tuple[str, str, str | None]:
    """(region code, location source, warning or None) of an address in county in which these known places
    were found (_found)."""
    township_spans = [(start, end) for start, end, _, level in found if level == "township"]
    townships = {code for _, _, code, level in found if level == "township"}
    # A village name inside a township's name is part of that name (迁陵 in 迁陵镇); only villages of the
    # township named count; of those, one whose name lies inside another's is not meant (新民 in 新民村).
    villages = [(start, end, code) for start, end, code, level in found
                if level == "village" and not _inside((start, end), township_spans)
                and (not townships or geography.township_code_of(code) in townships)]
    village_spans = [(start, end) for start, end, _ in villages]
    villages = {code for start, end, code in villages if not _inside((start, end), village_spans)}
    if len(villages) == 1:
        return villages.pop(), FROM_VILLAGE, None
    township_of = {geography.township_code_of(code) for code in villages} or townships
    level, listed = ("行政村", villages) if villages else ("乡镇", townships)
    if len(township_of) == 1:
        township = township_of.pop()
        place = names.get(township, township)
        if len(listed) > 1:
            return township, FROM_TOWNSHIP, SEVERAL_PLACES.format(
                level=level, names=_listed(listed, names), place=f"乡镇（{place}）", english="township")
        return township, FROM_TOWNSHIP, TOWNSHIP_ONLY.format(place=place)
    place = _county_name(county)
    if listed:
        return county, FROM_COUNTY, SEVERAL_PLACES.format(
            level=level, names=_listed(listed, names), place=f"县（{place}）", english="county")
    return county, FROM_COUNTY, COUNTY_ONLY.format(place=place)


def _listed(codes: set[str], names: dict[str, str]) -> str:
    """Places named in a message: villages with their township's name (两个和平村 are told apart)."""
    def named(code: str) -> str:
        if geography.level_of(code) == "village":
            township = geography.township_code_of(code)
            return names.get(township, "") + names.get(code, code)
        return names.get(code, code)
    return "、".join(sorted(named(code) for code in codes))


def match_places(counties: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    """Each located address (counties: county_code and rest, from find_counties) placed among the known
    townships and villages (code, name, level) of its county: its region code, location source and warning."""
    usable = known["name"].map(lambda name: isinstance(name, str) and len(name) >= 2 and not name.isdigit())
    known = known[usable.astype(bool)]
    names = dict(zip(known["code"], known["name"]))
    by_county = dict(list(known.groupby(known["code"].str[:6]))) if len(known) else {}
    placed: dict[str, tuple[str, str, str | None]] = {}
    for county, group in counties.groupby("county_code"):
        places = by_county.get(county[:6])
        texts = _place_texts(places) if places is not None else {}
        by_start: dict[str, list[str]] = {}
        for text in texts:
            by_start.setdefault(text[:2], []).append(text)
        for address, rest in zip(group.index, group["rest"]):
            placed[address] = _place(county, _found(rest, texts, by_start), names)
    return pd.DataFrame.from_dict(placed, orient="index", columns=["code", "source", "warning"]).reindex(
        counties.index)


KnownRegions = Callable[[list[str]], pd.DataFrame]  # county codes → their known townships, villages (code, name, level)


def locate(addresses: pd.Series, known_regions: KnownRegions) -> pd.DataFrame:
    """Each address located (index of addresses): code (12 digits; missing when not located), source
    (FROM_VILLAGE / FROM_TOWNSHIP / FROM_COUNTY), warning and error (the reason it is not located)."""
    distinct = list(dict.fromkeys(addresses.tolist()))
    counties = find_counties(distinct)
    located = counties[counties["county_code"].notna()]
    known = (known_regions(sorted(set(located["county_code"]))) if len(located)
             else pd.DataFrame(columns=["code", "name", "level"]))
    places = match_places(located, known)
    table = counties.join(places, how="left")
    rows = table.reindex(addresses.tolist())
    rows.index = addresses.index
    return rows[["code", "source", "warning", "error"]]
