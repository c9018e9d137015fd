"""Administrative divisions (GB/T 2260) from the `cpca` package's adcodes table.

cpca ships 3,511 divisions down to county level with 12-digit codes and coordinates.
Townships and villages are not in it: their codes come from the data (12 digits:
6 county + 3 township + 3 village), their positions from the data or the county.
"""
from functools import lru_cache
from importlib import resources

import pandas as pd

LEVELS = ("province", "prefecture", "county", "township", "village")
LEVEL_NAMES_ZH = {"province": "省", "prefecture": "市（州）", "county": "县（市、区）", "township": "乡镇", "village": "行政村"}


def level_of(code: str) -> str:
    """The level of a 12-digit division code."""
    if code[2:] == "0" * 10:
        return "province"
    if code[4:] == "0" * 8:
        return "prefecture"
    if code[6:] == "0" * 6:
        return "county"
    if code[9:] == "000":
        return "township"
    return "village"


def pad_code(code: str) -> str:
    """A 2-, 4-, 6-, 9- or 12-digit division code as 12 digits."""
    return code.ljust(12, "0")


@lru_cache(maxsize=1)
def divisions() -> pd.DataFrame:
    """Province, prefecture and county divisions: code, name, level, parent_code, lon, lat."""
    with resources.files("cpca").joinpath("resources/adcodes.csv").open(encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype={"adcode": str})
    table = table.rename(columns={"adcode": "code", "longitude": "lon", "latitude": "lat"})
    table["level"] = table["code"].map(level_of)
    known = set(table["code"])

    def parent(code: str) -> str | None:
        level = level_of(code)
        if level == "province":
            return None
        prefecture = pad_code(code[:4])
        province = pad_code(code[:2])
        if level == "county" and prefecture in known:
            return prefecture
        return province

    table["parent_code"] = table["code"].map(parent)
    return table[["code", "name", "level", "parent_code", "lon", "lat"]].reset_index(drop=True)


@lru_cache(maxsize=1)
def _by_code() -> dict[str, dict]:
    return divisions().set_index("code").to_dict("index")


def division(code: str) -> dict | None:
    """The cpca record for a province / prefecture / county code (12 digits), or None."""
    return _by_code().get(code)


def township_code_of(code: str) -> str:
    """The 12-digit township code of a village code (a township's own code for a township)."""
    return pad_code(code[:9])


def prefecture_code_of(code: str) -> str:
    """The 12-digit prefecture code of any county, township or village code."""
    return pad_code(code[:4])


def county_code_of(code: str) -> str:
    """The 12-digit county code of any township or village code."""
    return pad_code(code[:6])


def counties_of(province_or_prefecture: str) -> pd.DataFrame:
    """All counties under a province or prefecture code (12 digits).

    cpca's placeholder rows "市辖区" (xxxx01, no coordinates) are not counties and are left out.
    """
    table = divisions()
    prefix = province_or_prefecture[:2] if level_of(province_or_prefecture) == "province" else province_or_prefecture[:4]
    chosen = (table["level"] == "county") & table["code"].str.startswith(prefix) & table["lon"].notna()
    return table[chosen].reset_index(drop=True)


@lru_cache(maxsize=4096)
def find_county(name: str, within: str | None = None) -> str | None:
    """The county code whose name is `name` (optionally under a province / prefecture code)."""
    table = divisions()
    matches = table[(table["level"] == "county") & (table["name"] == name.strip())]
    if within:
        matches = matches[matches["code"].str.startswith(within[: 2 if level_of(within) == "province" else 4])]
    return matches["code"].iloc[0] if len(matches) == 1 else None
