"""Regions the rows need: townships and villages met in files, and where an enterprise is placed.

Households and villages name townships and villages that cpca does not list; they are created
(only where none exists yet, so a villages file's own coordinates are kept) before the rows that
point at them. An enterprise is linked to the most precise region already known: its village,
else its township, else its county.
"""
import neo4j
import pandas as pd

from etl.readers import RawTable
from etl.base_data import base_regions
from etl.validate import WARNING, Problem
from graph import loading

PARENT_REGION = "乡镇/村代码尚未加载，已关联到上级区划 / region not loaded yet, linked to its parent"


def missing_region_rows(kind_name: str, rows: pd.DataFrame) -> list[dict]:
    """Township (and, for households, village) rows {code, parent_code, props} the table's rows point at."""
    if kind_name not in ("households", "villages") or rows.empty:
        return []
    townships = rows.drop_duplicates("township_code")
    region_rows = [
        {"code": row.township_code, "parent_code": row.township_code[:6] + "000000",
         "props": {"name": _text_or(row.township_name, row.township_code), "level": "township",
                   "county_code": row.township_code[:6] + "000000"}}
        for row in townships.itertuples()
    ]
    if kind_name == "households":
        villages = rows.drop_duplicates("village_code")
        positions = base_regions().set_index("code")[["lon", "lat"]]
        for row in villages.itertuples():
            county = row.village_code[:6] + "000000"
            lon, lat = positions.loc[county] if county in positions.index else (None, None)
            region_rows.append({
                "code": row.village_code, "parent_code": row.township_code,
                "props": {"name": _text_or(row.village_name, row.village_code), "level": "village",
                          "township_code": row.township_code, "county_code": county,
                          "lon": _plain(lon), "lat": _plain(lat), "position_source": "county"},
            })
    return region_rows


def create_missing_regions(driver: neo4j.Driver, database: str | None, batch_size: int,
                           region_rows: list[dict]) -> None:
    """Create regions that do not exist yet (existing ones are left untouched), in batches."""
    for start in range(0, len(region_rows), batch_size):
        loading.create_missing_regions(driver, region_rows[start:start + batch_size], database)


def locate_enterprises(existing, rows: pd.DataFrame, table: RawTable,
                       file_label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Link each enterprise to the most precise known region (village, township or county); existing(label,
    keys) answers which regions exist (etl/references.py's graph_keys: those in the graph)."""
    candidates = pd.DataFrame({"exact": rows["region_code"], "township": rows["region_code"].str[:9] + "000",
                               "county": rows["county_code"]})
    known = existing("Region", sorted(set(candidates.stack())))
    chosen = candidates["exact"].where(candidates["exact"].isin(known),
                                       candidates["township"].where(candidates["township"].isin(known),
                                                                    candidates["county"]))
    problems = [
        Problem(file_label, table.sheet, int(row_number), table.headers.get("region_code", "行政区划代码"),
                rows.at[row_number, "region_code"], WARNING, PARENT_REGION)
        for row_number in rows.index[chosen != rows["region_code"]]
    ]
    rows["region_codes"] = chosen.map(lambda code: [code])
    return rows, problems


def _text_or(value, fallback: str) -> str:
    return value if isinstance(value, str) and value else fallback


def _plain(value):
    """numpy / pandas scalars as plain Python values (None for missing) for the driver."""
    if value is None or (not isinstance(value, (list, str)) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
