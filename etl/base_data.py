"""Base data loaded before any file (reference data): the divisions down to county (cpca) and the industry vocabulary."""
from collections.abc import Iterator

import pandas as pd

from core import geography
from core.industries import INDUSTRIES
from etl.transform import singleton
from graph.model import node_type


def base_regions() -> pd.DataFrame:
    """Provinces, prefectures and counties from cpca, as Region rows (parents first)."""
    table = geography.divisions().copy()
    table["level_rank"] = table["level"].map({level: rank for rank, level in enumerate(geography.LEVELS)})
    table = table.sort_values(["level_rank", "code"]).drop(columns="level_rank").reset_index(drop=True)
    table["parent_codes"] = singleton(table["parent_code"].astype("string"))
    table["position_source"] = "cpca"
    return table


def industry_rows() -> pd.DataFrame:
    """The industry vocabulary as Industry rows."""
    return pd.DataFrame(
        [{"code": i.code, "name": i.name, "aliases": list(i.aliases), "land_based": i.land_based} for i in INDUSTRIES]
    )


def loaded_columns(label: str, frame: pd.DataFrame) -> list[str]:
    """The properties the model lets the ETL write for label that the frame has (in declaration order)."""
    return [name for name in node_type(label).loaded if name in frame.columns]


def reference_tables() -> Iterator[tuple[str, pd.Series, pd.DataFrame, dict[str, pd.Series], str]]:
    """(label, keys, properties, relationship targets, description) to write, parents before children."""
    regions = base_regions()
    region = node_type("Region")
    for level in ("province", "prefecture", "county"):
        part = regions[regions["level"] == level]
        yield ("Region", part[region.key], part[loaded_columns("Region", part)],
               {rel.type: part[rel.field] for rel in region.loaded_relationships}, "行政区划")
    industries = industry_rows()
    industry = node_type("Industry")
    yield ("Industry", industries[industry.key], industries[loaded_columns("Industry", industries)],
           {rel.type: industries[rel.field] for rel in industry.loaded_relationships}, "产业")
