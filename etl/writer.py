"""Writing node rows to Neo4j: content hashes, driver-ready records, batches in a background thread.

    writer = NodeWriter(driver, database, batch_size=5000, progress=True)
    writer.write("Household", keys, props, {"LIVES_IN": village_codes, ...}, "households.csv")

Keys not yet in the graph are created by the generated CREATE query; existing keys whose row
changed are merged by the generated upsert, which replaces their relationships; unchanged rows
(same row_hash) are not sent at all. Both queries come from graph/querybuilder.py.

A row's hash is that of its source row (source_row_hashes: the cells as read, under the load's conditions),
so the loader can skip an unchanged row before validating it (etl/load.py); a row without one (None: it
loaded with a warning, which may depend on the graph) is written, and checked again, on every load.
"""
import hashlib
from concurrent.futures import ThreadPoolExecutor

import neo4j
import numpy as np
import pandas as pd
from tqdm import tqdm

from graph import loading, querybuilder
from graph.model import node_type

# 16 bytes, as pandas requires; change the version digits when transforms change so every row is rewritten once.
ROW_HASH_KEY = "lianjie-etl-0006"  # 0006: ID-suffix hashes (search)


class NodeWriter:
    """Upserts node rows of one database in batches, each batch one transaction."""

    def __init__(self, driver: neo4j.Driver, database: str | None, batch_size: int, progress: bool = True,
                 as_of: str | None = None):
        self.driver = driver
        self.database = database
        self.batch_size = batch_size
        self.progress = progress
        self.as_of = as_of  # the data's date: households' incomes are observed on it (graph/incomes.py)

    def write(self, label: str, key: pd.Series, props: pd.DataFrame, rels: dict[str, pd.Series],
              description: str, hashes: pd.Series | None = None) -> None:
        """Write rows of `label`; rels maps each relationship type the model declares to lists of target keys;
        hashes (aligned with key) are the rows' source hashes (None: rewritten on every load; default: each
        row's content hash)."""
        node = node_type(label)
        declared = {rel.type for rel in node.loaded_relationships}
        if set(rels) != declared:
            # The upsert replaces every declared relationship type: a missing column would read as "none".
            raise ValueError(f"{label} rows need target keys for exactly {sorted(declared)}, got {sorted(rels)}")
        if hashes is None:
            hashes = pd.Series(row_hashes(props, rels), index=key.index)
        stored = loading.stored_row_hashes(self.driver, label, key.tolist(), self.database)
        exists = key.isin(stored.keys()).to_numpy()
        changed = (key.map(stored) != hashes).to_numpy()
        work = [(querybuilder.create_query(node), ~exists), (querybuilder.upsert_query(node), exists & changed)]
        total = int(sum(mask.sum() for _, mask in work))
        bar = tqdm(total=total, desc=description, unit="行", disable=not self.progress or total == 0, leave=False)
        # One batch is written while the next is prepared, so Python and Neo4j each keep a core busy.
        with bar, ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            for query, mask in work:
                part_key, part_props, part_hashes = key[mask], props[mask], hashes[mask].tolist()
                part_rels = {rel_type: targets[mask] for rel_type, targets in rels.items()}
                for start in range(0, len(part_key), self.batch_size):
                    stop = min(start + self.batch_size, len(part_key))
                    rows = records(part_key.iloc[start:stop], part_props.iloc[start:stop],
                                   {t: s.iloc[start:stop] for t, s in part_rels.items()}, part_hashes[start:stop])
                    if pending is not None:
                        bar.update(pending.result())
                    pending = pool.submit(self._write_batch, label, query, rows)
            if pending is not None:
                bar.update(pending.result())

    def _write_batch(self, label: str, query: str, rows: list[dict]) -> int:
        """Write one batch (and the read state it changes); returns its size for the progress bar."""
        loading.upsert_batch(self.driver, query, rows, self.database, label, self.as_of)
        return len(rows)


def source_row_hashes(lines: list[str], conditions: str) -> list[str]:
    """A hash per source row: its cells as read, joined (RawChunk.raw_lines), under the load's conditions (the
    ETL version, ROW_HASH_KEY; kind, ID-number key and the file's header, in conditions), which make the
    hash's 16-byte key: the lines are hashed as they are, not copied with the conditions appended."""
    key = hashlib.sha256(f"{ROW_HASH_KEY}\x1e{conditions}".encode("utf-8")).hexdigest()[:16]
    hashed = pd.util.hash_pandas_object(pd.Series(lines, dtype=object), index=False, hash_key=key)
    return [f"{value:016x}" for value in hashed.to_numpy()]


def key_hashes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """A 64-bit hash of each row's key cells (for duplicate keys across a file's chunks)."""
    return pd.util.hash_pandas_object(frame[columns].astype("string").fillna("\x00"), index=False,
                                      hash_key=ROW_HASH_KEY).to_numpy()


def row_hashes(props: pd.DataFrame, rels: dict[str, pd.Series]) -> list[str]:
    """A content hash per row (properties and relationship targets), to skip unchanged rows."""
    material = props.astype("string").fillna("\x00")
    for rel_type, targets in rels.items():
        material[f"rel_{rel_type}"] = targets.map(lambda keys: "\x1f".join(keys))
    hashed = pd.util.hash_pandas_object(material, index=False, hash_key=ROW_HASH_KEY)
    return [f"{value:016x}" for value in hashed.to_numpy()]


def _column_values(series: pd.Series) -> list:
    """A column as plain Python values, None where missing (None removes the property)."""
    values = series.tolist()
    missing = series.isna().to_numpy() if series.dtype != object else series.map(
        lambda value: not isinstance(value, list) and pd.isna(value)).to_numpy(dtype=bool)
    if missing.any():
        values = [None if gone else value for value, gone in zip(values, missing)]
    return [value.item() if hasattr(value, "item") else value for value in values] if series.dtype == object else values


def records(key: pd.Series, props: pd.DataFrame, rels: dict[str, pd.Series], hashes: list[str]) -> list[dict]:
    """Driver-ready rows {key, props, row_hash, rels} built column by column (much faster than per cell)."""
    names = list(props.columns)
    columns = [_column_values(props[name]) for name in names]
    rel_types = list(rels)
    rel_columns = [rels[rel_type].tolist() for rel_type in rel_types]
    return [
        {"key": node_key, "props": dict(zip(names, prop_values)), "row_hash": row_hash,
         "rels": dict(zip(rel_types, rel_values))}
        for node_key, prop_values, row_hash, rel_values in zip(
            key.tolist(), zip(*columns) if columns else [()] * len(key), hashes,
            zip(*rel_columns) if rel_columns else [()] * len(key))
    ]
