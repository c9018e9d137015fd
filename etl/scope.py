"""County scope of a load: which counties it may write, and the rows that fall outside them.

A load may be limited to some counties (e.g. a bureau's own county): rows of any other county —
or that would change a record already belonging to another county — are rejected like any
other bad row, with a reason in the report.
"""
import re
from collections.abc import Iterable

import neo4j
import numpy as np
import pandas as pd

from core import geography
from etl import formats, values
from etl.readers import RawTable
from etl.validate import ERROR, Problem
from graph import loading
from graph.model import node_type

OUTSIDE_SCOPE = "不属于本账号管辖的县 / outside the county you may load"
HOUSEHOLD_OUTSIDE_SCOPE = "所属户不属于本账号管辖的县 / household is outside the county you may load"
OWNED_ELSEWHERE = "该记录已属于其他县，不能修改 / record already belongs to a county you may not load"

# The column that decides the county of a row: a region code, or the household the row belongs to.
SCOPE_COLUMN = {"villages": "village_code", "households": "village_code", "enterprises": "region_code",
                "projects": "region_code", "members": "household_id", "partnerships": "household_id"}


def county_scope(codes: Iterable[str] | None) -> frozenset[str] | None:
    """Allowed county codes as 12 digits (6-digit codes are padded); None stays None (no restriction).

    Raises ValueError for anything that is not the code of a known county (a scope never widens silently).
    """
    if codes is None:
        return None
    if isinstance(codes, str):
        codes = [codes]
    scope = set()
    for code in codes:
        text = str(code).strip()
        padded = geography.pad_code(text) if re.fullmatch(r"\d{6}|\d{12}", text) else ""
        if not padded or geography.level_of(padded) != "county" or geography.division(padded) is None:
            raise ValueError(f"不是有效的县级行政区划代码 / not a known county code: {code!r}")
        scope.add(padded)
    return frozenset(scope)


def check_scope(driver: neo4j.Driver, database: str | None, allowed: frozenset[str] | None,
                kind: formats.FileKind, rows: pd.DataFrame, table: RawTable,
                file_label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Reject rows outside the allowed counties, and rows that would change a record of another county.

    A row's county is that of its region code (villages, households, enterprises, projects) or of
    its household in the graph (members, partnerships; an unknown household is left to the
    reference check, which rejects it).
    """
    if allowed is None or rows.empty:
        return rows, []
    problems: list[Problem] = []
    column = SCOPE_COLUMN[kind.name]
    if column == "household_id":
        households = loading.stored_counties(driver, "Household", sorted(set(rows[column].dropna())), database)
        counties = rows[column].map(lambda household: households.get(household), na_action="ignore")
        outside = counties.map(lambda found: isinstance(found, set) and not (found and found <= allowed)).astype(bool)
        reason = HOUSEHOLD_OUTSIDE_SCOPE
    else:
        outside = ~rows["county_code"].isin(sorted(allowed))
        reason = OUTSIDE_SCOPE
    for row_number in rows.index[outside.to_numpy()]:
        problems.append(Problem(file_label, table.sheet, int(row_number), _header(table, column),
                                _shown(table, column, row_number, rows.at[row_number, column]), ERROR, reason))
    rows = rows[~outside.to_numpy()]
    # A key already in the graph must belong to an allowed county too: no moving another county's records.
    node = node_type(kind.node)
    stored = loading.stored_counties(driver, node.label, sorted(set(rows[node.key].dropna())), database)
    owned_elsewhere = rows[node.key].map(
        lambda key: key in stored and not (stored[key] and stored[key] <= allowed)).astype(bool).to_numpy()
    key_column = kind.key[0]
    for row_number in rows.index[owned_elsewhere]:
        problems.append(Problem(file_label, table.sheet, int(row_number), _header(table, key_column),
                                _shown(table, key_column, row_number, rows.at[row_number, node.key]), ERROR,
                                OWNED_ELSEWHERE))
    problems.sort(key=lambda problem: problem.row)
    return rows[~owned_elsewhere], problems


def unchanged_rows_outside(driver: neo4j.Driver, database: str | None, allowed: frozenset[str] | None,
                           kind: formats.FileKind, table: RawTable, file_label: str,
                           unchanged: np.ndarray) -> tuple[np.ndarray, list[Problem]]:
    """Among rows skipped as unchanged (a node carries their source hash), those outside the allowed counties,
    with the error check_scope would give them. Their node was written from this very row, so it belongs to
    the row's county: the row's own county decides (its region code, or its household's county)."""
    outside = np.zeros(len(table.frame), dtype=bool)
    if allowed is None or not unchanged.any():
        return outside, []
    frame = table.frame[unchanged]
    column = SCOPE_COLUMN[kind.name]
    if column == "household_id":
        households = loading.stored_counties(driver, "Household", sorted(set(frame[column].dropna())), database)
        found = frame[column].map(households.get, na_action="ignore")
        outside_here = found.map(lambda counties: isinstance(counties, set) and not (counties and counties <= allowed))
        reason = HOUSEHOLD_OUTSIDE_SCOPE
    else:
        codes = frame[column] if column in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="string")
        counties = (values.pad_region_code(codes).str[:6] + "000000").astype(object)
        located = codes.isna().to_numpy()  # located from its address when written: its node holds that county
        if located.any():
            node = node_type(kind.node)
            keys = frame.loc[located, kind.key[0]]
            if kind.column(kind.key[0]).type == formats.CREDIT_CODE:
                keys = keys.str.upper()  # as transform stores it
            stored = loading.stored_counties(driver, node.label, sorted(set(keys.dropna())), database)
            counties[located] = keys.map(lambda key: min(stored.get(key) or {""}), na_action="ignore").to_numpy()
        outside_here = ~counties.isin(sorted(allowed))
        reason = OUTSIDE_SCOPE
    outside[np.flatnonzero(unchanged)[outside_here.astype(bool).to_numpy()]] = True
    problems = [Problem(file_label, table.sheet, int(row_number), _header(table, column),
                        _shown(table, column, row_number, None), ERROR, reason)
                for row_number in table.frame.index[outside]]
    return outside, problems


def _header(table: RawTable, column: str) -> str:
    """A column's header as written in the file (the official header when the file lacks it)."""
    return table.headers.get(column) or table.kind.column(column).header


def _shown(table: RawTable, column: str, row_number, fallback) -> str:
    """The file's value of a cell for the report, masked when personal (fallback: the transformed value)."""
    raw = table.frame.at[row_number, column] if column in table.frame.columns else None
    value = fallback if raw is None or pd.isna(raw) else raw
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if table.kind.column(column).personal:
        return values.mask_id_number(pd.Series([str(value)])).iloc[0] if column == "id_number" else "***"
    return str(value)
