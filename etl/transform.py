"""Transform: validated string rows → typed node rows with their relationship columns.

A file kind names the graph label it loads (etl/formats.py); the graph model (graph/model.py)
declares that label's key, the properties the ETL writes and the relationships it draws with
the row field listing each one's target keys. A transform produces exactly those columns.
"""
import numpy as np
import pandas as pd

from core import codes, geography
from core.industries import industry_code
from core.mechanisms import CAPACITY
from etl import formats, values
from etl.address import FROM_CODE


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column of the frame, or an all-missing string column when the file lacks it."""
    return frame[name] if name in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="string")


def typed_columns(kind: formats.FileKind, frame: pd.DataFrame) -> pd.DataFrame:
    """Every declared column converted from text to its type (codes, numbers, lists, booleans)."""
    typed = pd.DataFrame(index=frame.index)
    for column in kind.columns:
        raw = _column(frame, column.name)
        if column.free_text:  # a mobile number in free text is personal: stored masked (validation warned)
            raw = values.mask_mobiles(raw)
        if column.type in (formats.CODE,):
            typed[column.name] = values.code_of(raw, column.code_list)
        elif column.type == formats.FLAG:
            typed[column.name] = values.code_of(raw, column.code_list).map({codes.YesNo.YES.value: True, codes.YesNo.NO.value: False}, na_action="ignore")
        elif column.type == formats.CODES:
            typed[column.name] = values.codes_of(raw, column.code_list)[0]
        elif column.type == formats.LIST:
            typed[column.name] = values.split_list(raw)
        elif column.type == formats.INTEGER:
            typed[column.name] = values.parse_number(raw).astype("Int64")
        elif column.type == formats.DECIMAL:
            typed[column.name] = values.parse_number(raw)
        elif column.type == formats.YEAR:
            typed[column.name] = values.year_of(raw)
        elif column.type == formats.DATE:
            typed[column.name] = values.parse_date(raw).dt.strftime("%Y-%m-%d").astype("string")
        elif column.type in (formats.ID_NUMBER, formats.CREDIT_CODE):
            typed[column.name] = raw.astype("string").str.upper()
        elif column.type == formats.REGION_CODE:
            typed[column.name] = values.pad_region_code(raw)
        else:
            typed[column.name] = raw.astype("string")
    return typed


def _industries(lists: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Industry codes for lists of product / industry names, and the names not in the vocabulary."""
    codes_ = lists.map(lambda names: sorted({code for code in map(industry_code, names) if code}))
    unknown = lists.map(lambda names: [name for name in names if industry_code(name) is None])
    return codes_, unknown


def singleton(series: pd.Series) -> pd.Series:
    """Each value as a one-item list (an empty list where missing), for relationship columns."""
    return pd.Series([[value] if isinstance(value, str) and value else [] for value in series.tolist()],
                     index=series.index, dtype=object)


def transform_villages(typed: pd.DataFrame) -> pd.DataFrame:
    """Village regions, positioned by their own coordinates or else by their county's."""
    out = pd.DataFrame(index=typed.index)
    out["code"] = typed["village_code"]  # the Region key
    out["village_code"] = typed["village_code"]
    out["name"] = typed["village"]
    out["level"] = "village"
    out["township_code"] = typed["village_code"].str[:9] + "000"
    out["county_code"] = typed["village_code"].str[:6] + "000000"
    _position(out, typed, out["county_code"])
    out["is_poor_village"] = typed["is_poor_village"]
    out["relocation_site"] = typed["relocation_site"]
    out["parent_codes"] = singleton(out["township_code"])
    out["township_name"] = typed["township"]
    return out


def _position(out: pd.DataFrame, typed: pd.DataFrame, fallback_codes: pd.Series) -> None:
    """lon / lat from the row where both are given, otherwise from the fallback region (county)."""
    has_own = typed["lon"].notna() & typed["lat"].notna()
    fallback = fallback_codes.str[:6].str.ljust(12, "0").map(lambda code: geography.division(code) or {})
    out["lon"] = typed["lon"].where(has_own, fallback.map(lambda record: record.get("lon")))
    out["lat"] = typed["lat"].where(has_own, fallback.map(lambda record: record.get("lat")))
    out["position_source"] = np.where(has_own, "data", "county")


def transform_households(typed: pd.DataFrame, id_key: bytes) -> pd.DataFrame:
    """Household nodes: codes, numbers, masked name, hashed head ID, industries from products."""
    out = typed.drop(columns=["head_id_number", "province", "prefecture", "county", "township", "village"], errors="ignore").copy()
    out["township_code"] = typed["village_code"].str[:9] + "000"
    out["county_code"] = typed["village_code"].str[:6] + "000000"
    out["head_name_masked"] = values.mask_name(typed["head_name"])
    out["head_id_hash"] = values.hash_id_number(typed["head_id_number"], id_key)
    out["head_id_suffix_hash"] = values.hash_id_suffix(typed["head_id_number"], id_key)
    out["phone_masked"] = values.mask_phone(typed["phone"])
    out["industry_codes"], out["unknown_products"] = _industries(typed["products"])
    out["other_causes"] = joined_causes(typed)
    out["active"] = True
    out["village_codes"] = singleton(typed["village_code"])
    out["township_name"] = typed["township"]
    out["village_name"] = typed["village"]
    return out


def joined_causes(typed: pd.DataFrame) -> pd.Series:
    """其他致贫原因 with the causes of 致贫原因2 / 致贫原因3 after it (each once, in that order)."""
    more = [typed[name] for name in ("other_cause_2", "other_cause_3")]
    if not any(column.notna().any() for column in more):
        return typed["other_causes"]
    return pd.Series([list(dict.fromkeys([*(listed if isinstance(listed, list) else []),
                                          *(cause for cause in extra if isinstance(cause, str))]))
                      for listed, *extra in zip(typed["other_causes"], *more)], index=typed.index, dtype=object)


def transform_members(typed: pd.DataFrame, id_key: bytes) -> pd.DataFrame:
    """Member nodes keyed by the keyed hash of the ID number; the number itself is dropped."""
    out = typed.drop(columns=["id_number"]).copy()
    out["id_hash"] = values.hash_id_number(typed["id_number"], id_key)
    out["id_suffix_hash"] = values.hash_id_suffix(typed["id_number"], id_key)
    out["name_masked"] = values.mask_name(typed["name"])
    out["birth_year"] = pd.to_numeric(typed["id_number"].str[6:10], errors="coerce").astype("Int64")
    sex_from_id = pd.to_numeric(typed["id_number"].str[16], errors="coerce").map(lambda digit: "男" if digit % 2 else "女", na_action="ignore")
    out["sex"] = typed["sex"].fillna(sex_from_id)
    out["household_ids"] = singleton(typed["household_id"])
    return out


def transform_enterprises(typed: pd.DataFrame) -> pd.DataFrame:
    """Enterprise nodes: industries, mechanisms (listed or implied by capacities), position."""
    out = typed.drop(columns=["industry"]).copy()
    out["county_code"] = typed["region_code"].str[:6] + "000000"
    out["industries"] = typed["industry"]
    out["industry_codes"], unknown_industries = _industries(typed["industry"])
    out["bought_codes"], unknown_products = _industries(typed["products_bought"])
    out["unknown_products"] = unknown_industries + unknown_products
    implied = pd.Series([[] for _ in range(len(typed))], index=typed.index, dtype=object)
    # An enterprise that lists no mechanisms offers those it states a capacity for.
    for mechanism, capacity in CAPACITY.items():
        offered = typed[capacity.field].fillna(0) > 0
        implied = implied.where(~offered, implied.map(lambda items, m=mechanism.value: items + [m]))
    out["mechanisms"] = typed["mechanisms"].where(typed["mechanisms"].map(len) > 0, implied)
    for field_name, shares in shared_capacity(typed, out["mechanisms"]).items():
        out[field_name] = typed[field_name].fillna(shares) if len(shares) else typed[field_name]
    out["phone_masked"] = values.mask_phone(typed["phone"])
    out["credit_check_ok"] = values.credit_check_char_ok(typed["credit_code"])
    _position(out, typed, typed["region_code"])
    out["region_codes"] = singleton(typed["region_code"])
    out["location_source"] = FROM_CODE  # a row located from its address says so (etl/regions.py)
    return out


def shared_capacity(typed: pd.DataFrame, mechanisms: pd.Series) -> dict[str, pd.Series]:
    """Per capacity field, the amounts that an enterprise's 可带动户数 (households it can lead, all mechanisms
    together) gives the mechanisms it lists without an amount of their own: what the stated amounts leave of
    it, shared equally (the first in code order takes the remainder), in each mechanism's own unit. The
    amounts the file states are kept, so the plan never gives more than the file says."""
    stated = typed.index[typed["households_capacity"].notna()]
    shares: dict[str, dict] = {capacity.field: {} for capacity in CAPACITY.values()}
    for row in stated:  # enterprise files are small (a province has ~20,000): a loop over those with the figure
        listed = [mechanism for mechanism in CAPACITY if mechanism.value in (mechanisms.at[row] or [])]
        open_ = [mechanism for mechanism in listed if pd.isna(typed.at[row, CAPACITY[mechanism].field])]
        if not open_:
            continue
        taken = sum(CAPACITY[mechanism].places(typed.at[row, CAPACITY[mechanism].field]) for mechanism in listed
                    if mechanism not in open_)
        left = max(int(typed.at[row, "households_capacity"]) - taken, 0)
        each, extra = divmod(left, len(open_))
        for position, mechanism in enumerate(open_):
            capacity = CAPACITY[mechanism]
            shares[capacity.field][row] = (each + (extra if position == 0 else 0)) * capacity.unit_per_household
    return {name: pd.Series(found, dtype=float) for name, found in shares.items()}


def transform_projects(typed: pd.DataFrame) -> pd.DataFrame:
    """Project nodes in their county, with industries and the implementing enterprise."""
    out = typed.drop(columns=["industry"]).copy()
    out["county_code"] = typed["region_code"].str[:6] + "000000"
    out["industries"] = typed["industry"]
    out["industry_codes"], out["unknown_products"] = _industries(typed["industry"])
    out["county_codes"] = singleton(out["county_code"])
    out["implementer_codes"] = singleton(typed["implementer_credit_code"])
    out["location_source"] = FROM_CODE  # a row located from its address says so (etl/regions.py)
    return out


def transform_partnerships(typed: pd.DataFrame) -> pd.DataFrame:
    """Partnership nodes (ledger rows); rows without 联结编号 get a stable id from their content."""
    out = typed.copy()
    derived = values.stable_id(typed["household_id"], typed["credit_code"], typed["mechanism"], typed["start_date"])
    out["partnership_id"] = typed["partnership_id"].fillna("P" + derived)
    out["status"] = typed["status"].fillna(codes.PartnershipStatus.IN_FORCE.value)
    out["household_ids"] = singleton(typed["household_id"])
    out["enterprise_codes"] = singleton(typed["credit_code"])
    out["project_ids"] = singleton(typed["project_id"])
    return out


def transform(kind: formats.FileKind, frame: pd.DataFrame, id_key: bytes) -> pd.DataFrame:
    """The node rows of a validated table (index = row number in the file)."""
    typed = typed_columns(kind, frame)
    if kind.name == "villages":
        return transform_villages(typed)
    if kind.name == "households":
        return transform_households(typed, id_key)
    if kind.name == "members":
        return transform_members(typed, id_key)
    if kind.name == "enterprises":
        return transform_enterprises(typed)
    if kind.name == "projects":
        return transform_projects(typed)
    return transform_partnerships(typed)
