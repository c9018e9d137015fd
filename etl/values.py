"""Vectorised parsing and checking of cell values (pandas string Series in, Series out).

Shared by validation (is the value acceptable?) and transformation (what does it mean?). Checks and parsing
run on Arrow-backed text (ARROW_TEXT: string operations in C++ over the whole column, where Python-backed text
calls Python per cell); text that goes into rows is returned Python-backed, like every other column.
"""
import hashlib
import hmac
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core import search
from core.codes import Code

LIST_SEPARATORS = r"[、,，;；/|\s]+"
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK_CHARS = np.array(list("10X98765432"))
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
_CREDIT_VALUE = {char: value for value, char in enumerate(CREDIT_ALPHABET)}
ARROW_TEXT = "string[pyarrow]"


def _arrow(values: pd.Series) -> pd.Series:
    return values.astype(ARROW_TEXT)


def _arrow_array(values: pd.Series) -> pa.ChunkedArray:
    """The Arrow array behind the text (converted to ARROW_TEXT first when it is not)."""
    return _arrow(values).array._pa_array


# A number as Arrow casts it to float64; other texts (thousands separators, units) are cleaned first.
_PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _as_numbers(text: pd.Series) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """(which texts are plain numbers, the numbers; null elsewhere) in Arrow."""
    array = _arrow_array(text)
    plain = pc.match_substring_regex(array, _PLAIN_NUMBER)
    return plain, pc.cast(pc.if_else(plain, array, pa.scalar(None, pa.string())), pa.float64())


def parse_number(values: pd.Series) -> pd.Series:
    """Numbers (float) written with thousands separators or units left off; NaN where unparseable."""
    # Arrow compute: this runs on every numeric cell of a province's files. Most cells are plain numbers; only
    # the others go through the cleaning.
    text = _arrow(values)
    plain, numbers = _as_numbers(text)
    result = pd.Series(numbers.to_numpy(), index=values.index, dtype=float)
    other = ~pd.Series(plain.to_numpy(zero_copy_only=False), index=values.index, dtype="boolean").fillna(True)
    if other.any():
        cleaned = (text[other.to_numpy()].str.replace(r"[,\s]", "", regex=True)
                   .str.removesuffix("亩").str.removesuffix("元"))
        result[other.to_numpy()] = _as_numbers(cleaned)[1].to_numpy()
    return result


def is_integer_text(values: pd.Series) -> pd.Series:
    """True where the text is a whole number (`12`, `12.0`)."""
    return _arrow(values).str.replace(",", "", regex=False).str.fullmatch(r"-?\d+(\.0+)?").fillna(False).astype(bool)


def parse_date(values: pd.Series) -> pd.Series:
    """Dates written as 2019-03-01, 2019/3/1, 2019.3.1, 2019年3月1日 or 20190301; NaT if not."""
    text = _arrow(values).str.replace(r"\s.*$", "", regex=True)
    text = text.str.replace(r"[年月./]", "-", regex=True).str.replace("日", "", regex=False)
    compact = text.str.fullmatch(r"\d{8}").fillna(False).astype(bool)
    text = text.where(~compact, text.str[:4] + "-" + text.str[4:6] + "-" + text.str[6:8])
    return pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")


# A year as bureaus write it: 2019, 2019年, or a date whose year it is (2019-03, 2019年3月1日, 2019/3/1, 20190301):
# a column such as 识别时间 may hold the date a household was identified.
_YEAR_TEXT = r"(?:19|20)\d\d(?:年|(?:年|[-/.])\d{1,2}(?:月|(?:月|[-/.])\d{1,2}日?)?)?|(?:19|20)\d{6}"


def year_text_ok(values: pd.Series) -> pd.Series:
    """True where the text is a year (or a date, whose year counts)."""
    return _arrow(values).str.fullmatch(_YEAR_TEXT).fillna(False).astype(bool)


def year_of(values: pd.Series) -> pd.Series:
    """The year (Int64) of texts year_text_ok accepts; missing elsewhere."""
    text = _arrow(values)
    return pd.to_numeric(text.str[:4].where(year_text_ok(text)), errors="coerce").astype("Int64")


# LIST_SEPARATORS for Arrow (RE2): its \s is ASCII only, so the rest of Python's whitespace is listed.
_LIST_SEPARATORS_RE2 = r"[、,，;；/|\s\x0b\x1c-\x1f\x85\p{Z}]+"


def split_list(values: pd.Series) -> pd.Series:
    """Cells holding several items (`因病、因残`) as lists; missing cells as empty lists.

    Only the cells written are split: list columns are mostly empty (risks of the few monitored households)."""
    present = np.flatnonzero(values.notna().to_numpy())
    lists = [[] for _ in range(len(values))]
    if len(present):
        text = _arrow_array(values.iloc[present])
        # Every run of separators becomes one \x1f (never in a cell: the reader drops control characters).
        joined = pc.utf8_trim(pc.replace_substring_regex(text, _LIST_SEPARATORS_RE2, "\x1f"), "\x1f")
        for position, items in zip(present, pc.split_pattern(joined, "\x1f").to_pylist()):
            if items != [""]:
                lists[position] = items
    return pd.Series(lists, index=values.index, dtype=object)


def code_of(values: pd.Series, code_list: type[Code]) -> pd.Series:
    """Codes for values written as codes or labels; missing where the value is unknown."""
    return values.astype("string").map(code_list.lookup(), na_action="ignore").astype("string")


def codes_of(values: pd.Series, code_list: type[Code]) -> tuple[pd.Series, pd.Series]:
    """Lists of codes for multi-valued cells, and a mask of cells holding an unknown item (empty cells: none)."""
    lookup = code_list.lookup()
    items = split_list(values)
    codes = [[] for _ in range(len(values))]
    unknown = np.zeros(len(values), dtype=bool)
    for position, parts in enumerate(items):
        if parts:
            codes[position] = [lookup[part] for part in parts if part in lookup]
            unknown[position] = len(codes[position]) < len(parts)
    return pd.Series(codes, index=values.index, dtype=object), pd.Series(unknown, index=values.index)


# --- ID card numbers (GB 11643) ------------------------------------------------------------

def id_number_format_ok(values: pd.Series) -> pd.Series:
    """18 characters: 17 digits and a digit or X."""
    return _arrow(values).str.upper().str.fullmatch(r"\d{17}[\dX]").fillna(False).astype(bool)


def stored_as_number(values: pd.Series) -> pd.Series:
    """Numbers Excel has shown in scientific notation (4.33123E+17): an ID number kept as a number has lost its
    last digits, and nothing can bring them back."""
    return _arrow(values).str.fullmatch(r"\d(\.\d+)?[eE]\+?\d{1,2}").fillna(False).astype(bool)


def id_birth_date(values: pd.Series) -> pd.Series:
    """The birth date written in an ID number (NaT when absent or impossible)."""
    births = pd.to_datetime(_arrow(values).str[6:14], format="%Y%m%d", errors="coerce")
    return births.where((births.dt.year >= 1900) & (births <= pd.Timestamp.today()))


def id_check_digit_ok(values: pd.Series) -> pd.Series:
    """True where the 18th character is the check character of the first 17 (format assumed)."""
    text = _arrow(values).str.upper()
    well_formed = id_number_format_ok(text)
    result = pd.Series(False, index=values.index)
    if well_formed.any():
        chosen = text[well_formed]
        digits = np.frombuffer("".join(chosen.str[:17]).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
        expected = ID_CHECK_CHARS[(digits @ ID_WEIGHTS) % 11]
        result[well_formed] = expected == chosen.str[17].to_numpy(dtype=str)
    return result


def hash_id_number(values: pd.Series, key: bytes) -> pd.Series:
    """Keyed HMAC-SHA256 of normalised ID numbers: stable for de-duplication, not reversible."""
    keyed = hmac.new(key, digestmod=hashlib.sha256)  # the key's pads hashed once, copied for each number

    def digest(number: str) -> str:
        one = keyed.copy()
        one.update(number.encode("ascii"))
        return one.hexdigest()

    numbers = _arrow(values).str.upper().tolist()
    return pd.Series([digest(number) if isinstance(number, str) else None for number in numbers],
                     index=values.index, dtype="string[python]")


def hash_id_suffix(values: pd.Series, key: bytes) -> pd.Series:
    """Keyed hash of each ID number's last four characters (core.search.suffix_hash), for search by them; the
    characters themselves are never stored."""
    numbers = _arrow(values).str.upper().tolist()
    hashes = [None if suffix is None else search.suffix_hash(suffix, key)
              for suffix in (search.id_suffix(number) for number in numbers)]
    return pd.Series(hashes, index=values.index, dtype="string[python]")


def mask_id_number(values: pd.Series) -> pd.Series:
    """ID numbers for reports: region prefix and last character only (4331**************2X)."""
    text = values.astype("string")
    return text.str[:4] + "*" * 12 + text.str[-2:]


def mask_name(values: pd.Series) -> pd.Series:
    """Names for enterprises and analysts: 张*华, 李*, 欧阳*明."""
    text = values.astype("string")
    length = text.str.len()
    return text.where(length <= 1, text.str[0] + "*" + text.str[-1].where(length > 2, ""))


def mask_phone(values: pd.Series) -> pd.Series:
    """Phone numbers masked in the middle (138****5678)."""
    text = values.astype("string")
    return text.str[:3] + "****" + text.str[-4:]


# --- ID and mobile numbers where they do not belong -----------------------------------------

# An ID number's shape: 6 region digits, a birth date from 1900 on, 3 digits and a check character, between non-digits.
EMBEDDED_ID_NUMBER = re.compile(
    r"(?<!\d)\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dXx])")
# A mainland mobile number: 11 digits starting 13–19, between non-digits.
EMBEDDED_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _masked_id(found: re.Match) -> str:
    return found.group(0)[:4] + "*" * 12 + found.group(0)[-2:]


def _masked_mobile(found: re.Match) -> str:
    return found.group(0)[:3] + "****" + found.group(0)[-4:]


def mask_embedded(text: str) -> str:
    """text with every ID number and mobile number in it masked as in the personal columns (4331…2X, 138****5678)."""
    return EMBEDDED_MOBILE.sub(_masked_mobile, EMBEDDED_ID_NUMBER.sub(_masked_id, text))


# The same shapes for Arrow's regular expressions (RE2, which has no look-around): a non-digit or the text's
# start / end instead; whether a text holds one is the same question. Digits are spelt [0-9]: cells are NFKC
# already, and pandas would run a \d on Chinese text in Python's re.
_EMBEDDED_ID_NUMBER_RE2 = (r"(?:^|[^0-9])[0-9]{6}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
                           r"[0-9]{3}[0-9Xx](?:$|[^0-9Xx])")
_EMBEDDED_MOBILE_RE2 = r"(?:^|[^0-9])1[3-9][0-9]{9}(?:$|[^0-9])"


def _contains(values: pd.Series, pattern: str) -> pd.Series:
    """True where the text holds a match of the (RE2) pattern."""
    return _arrow(values).str.contains(pattern, regex=True).fillna(False).astype(bool)


def has_id_number(values: pd.Series) -> pd.Series:
    """True where the text holds something shaped like an ID number."""
    return _contains(values, _EMBEDDED_ID_NUMBER_RE2)


def has_mobile(values: pd.Series) -> pd.Series:
    """True where the text holds a mobile number."""
    return _contains(values, _EMBEDDED_MOBILE_RE2)


def mask_mobiles(values: pd.Series) -> pd.Series:
    """Mobile numbers inside free text masked in the middle (联系人139****5678)."""
    text = values.astype("string")
    holding = has_mobile(text)
    if not holding.any():
        return text
    return text.where(~holding, text[holding].str.replace(EMBEDDED_MOBILE, _masked_mobile, regex=True))


# --- Unified social credit codes (GB 32100-2015) -------------------------------------------

def credit_code_format_ok(values: pd.Series) -> pd.Series:
    """18 characters from the code's 31-character alphabet."""
    pattern = f"[{CREDIT_ALPHABET}]{{18}}"
    return _arrow(values).str.upper().str.fullmatch(pattern).fillna(False).astype(bool)


def credit_check_char_ok(values: pd.Series) -> pd.Series:
    """True where the 18th character is the GB 32100 check character (format assumed)."""
    text = _arrow(values).str.upper()
    well_formed = credit_code_format_ok(text)
    result = pd.Series(False, index=values.index)
    if well_formed.any():
        chosen = text[well_formed]
        matrix = np.array([[_CREDIT_VALUE[char] for char in code[:17]] for code in chosen], dtype=np.int64)
        expected = np.array(list(CREDIT_ALPHABET))[(31 - (matrix @ CREDIT_WEIGHTS) % 31) % 31]
        result[well_formed] = expected == chosen.str[17].to_numpy(dtype=str)
    return result


def region_code_ok(values: pd.Series) -> pd.Series:
    """6, 9 or 12 digits (county, township or village level)."""
    return _arrow(values).str.fullmatch(r"\d{6}(\d{3}){0,2}").fillna(False).astype(bool)


def pad_region_code(values: pd.Series) -> pd.Series:
    """Region codes as 12 digits."""
    return values.astype("string").str.ljust(12, "0")


def stable_id(*parts: pd.Series) -> pd.Series:
    """A short deterministic id from several columns (for rows without their own key)."""
    joined = parts[0].astype("string").fillna("")
    for part in parts[1:]:
        joined = joined + "|" + part.astype("string").fillna("")
    return joined.map(lambda text: hashlib.sha1(text.encode("utf-8")).hexdigest()[:16])


