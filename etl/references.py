"""References of rows to other records and to the industry vocabulary.

A member or ledger row naming a household or enterprise that does not exist is rejected (an error);
a project or implementer that does not exist only loses its link (a warning); a product or
industry name outside the vocabulary is kept as text (a warning). Counts still reconcile:
rows read = rows loaded + rows rejected.
"""
from collections.abc import Callable

import pandas as pd

from etl import formats
from etl.readers import RawTable
from etl.validate import ERROR, WARNING, Problem

# (label, keys) → the keys among them for which a node of label exists.
ExistingKeys = Callable[[str, list[str]], set[str]]

HOUSEHOLD_NOT_FOUND = "户编号在户信息中不存在 / household not found"
ENTERPRISE_NOT_FOUND = "企业（统一社会信用代码）不存在 / enterprise not found"
PROJECT_NOT_FOUND = "项目编号不存在，未关联项目 / project not found, link skipped"
IMPLEMENTER_NOT_FOUND = "实施主体不在企业名录中，未关联 / implementer not found, link skipped"
UNKNOWN_PRODUCT = "产品/产业不在产业词表中（已保留原文）/ not in the industry vocabulary, kept as text"

# kind → (column, label it names, reason): a missing target rejects the row.
REQUIRED = {
    "members": [("household_id", "Household", HOUSEHOLD_NOT_FOUND)],
    "partnerships": [("household_id", "Household", HOUSEHOLD_NOT_FOUND),
                     ("credit_code", "Enterprise", ENTERPRISE_NOT_FOUND)],
}
# kind → (column, label it names, relationship column, reason): a missing target only drops the link.
OPTIONAL = {
    "partnerships": [("project_id", "Project", "project_ids", PROJECT_NOT_FOUND)],
    "projects": [("implementer_credit_code", "Enterprise", "implementer_codes", IMPLEMENTER_NOT_FOUND)],
}


def check_references(existing: ExistingKeys, kind: formats.FileKind, rows: pd.DataFrame, table: RawTable,
                     file_label: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Reject rows pointing at households / enterprises that do not exist; drop optional links with a warning.

    existing(label, keys) answers which keys exist (graph_keys: those in the graph)."""
    problems: list[Problem] = []
    bad_rows: set[int] = set()
    for column, label, reason in REQUIRED.get(kind.name, []):
        missing = missing_targets(existing, rows[column], label)
        for row_number, value in rows.loc[missing, column].items():
            problems.append(Problem(file_label, table.sheet, int(row_number), table.headers.get(column, column),
                                    str(value), ERROR, reason))
            bad_rows.add(int(row_number))
    for column, label, rel_column, reason in OPTIONAL.get(kind.name, []):
        missing = missing_targets(existing, rows[column], label)
        for row_number, value in rows.loc[missing, column].items():
            problems.append(Problem(file_label, table.sheet, int(row_number), table.headers.get(column, column),
                                    str(value), WARNING, reason))
        rows.loc[missing, rel_column] = pd.Series([[] for _ in range(int(missing.sum()))], index=rows.index[missing],
                                                  dtype=object)
    return rows.drop(index=sorted(bad_rows)), problems


def missing_targets(existing: ExistingKeys, keys: pd.Series, label: str) -> pd.Series:
    """True where a (present) key names no node of label."""
    present = keys.dropna()
    found = existing(label, sorted(set(present)))
    return keys.notna() & ~keys.isin(found)


def unknown_product_warnings(rows: pd.DataFrame, table: RawTable, file_label: str) -> list[Problem]:
    """A warning for each product or industry name that is not in the vocabulary (kept as text)."""
    if "unknown_products" not in rows.columns:
        return []
    header = table.headers.get("products") or table.headers.get("industry") or table.headers.get("products_bought") or "产业"
    return [
        Problem(file_label, table.sheet, int(row_number), header, "、".join(names), WARNING, UNKNOWN_PRODUCT)
        for row_number, names in rows["unknown_products"].items() if names
    ]
