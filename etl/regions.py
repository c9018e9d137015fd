"""Regions the rows need: townships and villages met in files, and where an enterprise is placed.

Households and villages name townships and villages that cpca does not list; they are created
(only where none exists yet, so a villages file's own coordinates are kept) before the rows that
point at them. An enterprise or project without a region code is located from its address
(etl/address.py: the county by cpca, the township and village by the names of those known). An
enterprise is linked to the most precise region already known: its village, else its township,
else its county.
"""
import neo4j
import pandas as pd

from etl import address
from etl.readers import RawTable
from etl.base_data import base_regions
from etl.validate import ERROR, WARNING, Problem
from graph import loading

COLUMNS = ["code", "name", "level"]

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


def locate_by_address(known_regions: address.KnownRegions, kind_name: str, frame: pd.DataFrame, table: RawTable,
                      file_label: str) -> tuple[pd.DataFrame, pd.Series, list[Problem]]:
    """Rows of a validated table (its text cells) without a region code, located from their address: the rows
    with the code they are located at filled in (those that cannot be located left out: an error each), how
    each row was located (address.FROM_CODE …) and the problems (a warning for a place less precise than a
    village). known_regions(county codes) answers the townships and villages known in those counties."""
    sources = pd.Series(address.FROM_CODE, index=frame.index, dtype=object)
    if kind_name not in ("enterprises", "projects") or "address" not in frame.columns:
        return frame, sources, []
    codes = frame["region_code"] if "region_code" in frame.columns else pd.Series(pd.NA, index=frame.index,
                                                                                 dtype="string")
    wanted = codes.isna() & frame["address"].notna()
    if not wanted.any():
        return frame, sources, []
    located = address.locate(frame.loc[wanted, "address"].astype(str), known_regions)
    header = table.headers.get("address", table.kind.column("address").header)
    problems = [Problem(file_label, table.sheet, int(row_number), header, frame.at[row_number, "address"],
                        ERROR if isinstance(error, str) else WARNING, error if isinstance(error, str) else warning)
                for row_number, error, warning in zip(located.index, located["error"], located["warning"])
                if isinstance(error, str) or isinstance(warning, str)]
    placed = located[located["code"].notna()]
    frame = frame.drop(index=located.index[located["code"].isna()])
    frame = frame.assign(region_code=codes.astype("string"))
    frame.loc[placed.index, "region_code"] = placed["code"].astype("string")
    sources = sources.loc[frame.index]
    sources.loc[placed.index] = placed["source"]
    return frame, sources, problems


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
