"""ETL benchmark: a province-scale synthetic data set into an empty Neo4j.

    .venv/bin/python bench/etl_load.py [--households 1000000] [--enterprises 20000] [--projects 3000]

1. generates the files (devtools.synth, in a subprocess, so its memory is not counted);
2. starts a dedicated local Neo4j (port 7690, var/neo4j/bench) and empties it;
3. loads every file with the ETL into the empty graph (its bulk path: checked and transformed chunk by chunk,
   written by neo4j-admin database import), printing nodes and relationships per second;
   before that, exports exactly the nodes and relationships the ETL writes as CSV and loads
   them with Neo4j's own LOAD CSV … CALL { } IN TRANSACTIONS into the empty graph (timed),
   then empties it again; prints the ratio;
4. loads the same files again, unchanged (skipped by their digests), and prints the time;
5. loads copies in which 1 % of the rows of every file changed (every 100th row: an income, a name, a
   capacity…) and prints the time. The ETL-loaded graph is kept for bench/match_province.py.
Peak memory is the benchmark process's maximum RSS (the ETL runs in it; the LOAD CSV step exports its rows
through the same streaming ETL first).
"""
import argparse
import csv
import hashlib
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import PROJECT_ROOT, Settings  # noqa: E402
from etl.load import Loader, load_files  # noqa: E402
from graph import bulk, server  # noqa: E402
from graph.db import create_driver  # noqa: E402
from graph.maintenance import clear_graph  # noqa: E402
from graph.model import NODES, node_type  # noqa: E402
from graph.schema import apply_schema  # noqa: E402

BENCH_DIR = PROJECT_ROOT / "var" / "bench"


class CsvExportLoader(Loader):
    """A Loader that writes the rows it would upsert to CSV files instead of Neo4j."""

    def __init__(self, driver, settings, out_dir: Path):
        super().__init__(driver, settings, progress=False)
        self.out_dir = out_dir
        self.node_files: dict[str, list[Path]] = defaultdict(list)
        self.rel_files: dict[tuple[str, str, str], list[Path]] = defaultdict(list)

    def write_nodes(self, label, key, props, rels, description, hashes=None):
        """Write node rows (scalar properties; lists joined) and relationship pairs as CSV."""
        index = len(self.node_files[label])
        node_file = self.out_dir / f"nodes-{label}-{index}.csv"
        frame = props.copy()
        for column in frame.columns:
            if frame[column].map(lambda value: isinstance(value, list)).any():
                frame[column] = frame[column].map(lambda value: ";".join(value) if isinstance(value, list) else value)
        frame.insert(0, "key", key.to_numpy())
        frame.to_csv(node_file, index=False)
        self.node_files[label].append(node_file)
        for spec in (rel for rel in node_type(label).relationships if rel.type in rels):
            rel_file = self.out_dir / f"rels-{spec.type}-{label}-{index}.csv"
            with open(rel_file, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["start", "end"])
                for start_key, targets in zip(key.tolist(), rels[spec.type].tolist()):
                    writer.writerows([start_key, target] for target in targets)
            self.rel_files[(spec.type, label, spec.target)].append(rel_file)

    def check_references(self, kind, rows, table, file_label):
        """No graph to check against yet: synthetic files reference only what they define."""
        if kind.name == "enterprises":
            rows = rows.assign(region_codes=rows["region_code"].map(lambda code: [code]))
        return rows, []

    def write_missing_regions(self, region_rows):
        """Regions created on the way become node and PART_OF rows too."""
        if not region_rows:
            return
        keys = pd.Series([row["code"] for row in region_rows])
        props = pd.DataFrame([row["props"] for row in region_rows])
        parents = pd.Series([[row["parent_code"]] for row in region_rows])

        self.write_nodes("Region", keys, props, {"PART_OF": parents}, "")


# The column changed in every 100th row of each file for the 1 %-changed re-load, and how.
CHANGES = {
    "households": ("人均纯收入（元）", lambda value: str(float(value or 0) + 1)),
    "members": ("姓名", lambda value: value + "华"),
    "enterprises": ("用工需求（人）", lambda value: str(int(float(value or 0)) + 1)),
    "projects": ("资金规模（万元）", lambda value: str(float(value or 0) + 1)),
    "partnerships": ("年增收（元）", lambda value: str(float(value or 0) + 1)),
    "villages": ("行政村", lambda value: value + "新"),
}


def changed_copies(files: list[Path], out_dir: Path, every: int = 100) -> list[Path]:
    """Copies of the files with one row in `every` changed (streamed: a file is never held whole)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    copies = []
    for path in files:
        column, change = CHANGES[path.stem]
        copy = out_dir / path.name
        with open(path, encoding="utf-8", newline="") as source, open(copy, "w", encoding="utf-8", newline="") as target:
            reader, writer = csv.reader(source), csv.writer(target)
            header = next(reader)
            writer.writerow(header)
            position = header.index(column)
            for number, row in enumerate(reader):
                if number % every == every // 2:
                    row[position] = change(row[position])
                writer.writerow(row)
        copies.append(copy)
    return copies


def generate(out_dir: Path, households: int, enterprises: int, projects: int, seed: int) -> None:
    """Write the synthetic data set unless the same one is already there (same sizes, seed and generator)."""
    generator = hashlib.sha256((PROJECT_ROOT / "devtools" / "synth.py").read_bytes()).hexdigest()[:12]
    marker = out_dir / f".done-{households}-{enterprises}-{projects}-{seed}-{generator}"
    if marker.exists():
        print(f"使用已生成的数据 / reusing data in {out_dir}", flush=True)
        return
    shutil.rmtree(out_dir, ignore_errors=True)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "devtools.synth", "--out", str(out_dir), "--households", str(households),
                    "--enterprises", str(enterprises), "--projects", str(projects), "--seed", str(seed)],
                   cwd=PROJECT_ROOT, check=True)
    marker.touch()
    print(f"生成数据 / generated in {time.monotonic() - started:.0f} s", flush=True)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--projects", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--heap", default="4g")
    parser.add_argument("--pagecache", default="4g")
    parser.add_argument("--skip-load-csv", action="store_true")
    args = parser.parse_args()

    data_dir = BENCH_DIR / f"data-{args.households}"
    import_dir = BENCH_DIR / "import"
    generate(data_dir, args.households, args.enterprises, args.projects, args.seed)
    files = sorted(path for path in data_dir.iterdir() if path.suffix == ".csv")
    print("文件 / files: " + ", ".join(f"{p.name} ({p.stat().st_size / 1e6:.0f} MB)" for p in files), flush=True)

    settings = Settings(local_neo4j_port=7690, local_neo4j_home=PROJECT_ROOT / "var" / "neo4j" / "bench",
                        local_neo4j_heap=args.heap, local_neo4j_pagecache=args.pagecache, id_hash_key="bench",
                        var_dir=BENCH_DIR / "var")
    instance = server.LocalInstance(Path(settings.local_neo4j_home).resolve(), 7690, args.heap, args.pagecache,
                                    import_dir=import_dir.resolve())
    server.stop(instance)
    shutil.rmtree(instance.home, ignore_errors=True)  # an empty Neo4j for every run
    import_dir.mkdir(parents=True, exist_ok=True)
    server.start(instance)
    try:
        with create_driver(settings) as driver:
            apply_schema(driver)
            csv_rate = None
            if not args.skip_load_csv:
                # Neo4j's own bulk path first, on exactly the rows the ETL writes (exported, not timed).
                for old in import_dir.glob("*.csv"):
                    old.unlink()
                exporter = CsvExportLoader(driver, settings, import_dir)
                load_files(files, driver, settings, progress=False, loader=exporter)
                clear_graph(driver)
                started = time.monotonic()
                for label in ("Region", "Industry", *[name for name in NODES if name not in ("Region", "Industry")]):
                    for path in exporter.node_files.get(label, []):
                        bulk.load_csv_nodes(driver, label, path.name)
                for (rel_type, start, end), paths in exporter.rel_files.items():
                    for path in paths:
                        bulk.load_csv_relationships(driver, rel_type, start, end, path.name)
                csv_seconds = time.monotonic() - started
                csv_nodes, csv_rels = bulk.count_entities(driver)
                csv_rate = (csv_nodes + csv_rels) / csv_seconds
                print(f"LOAD CSV … IN TRANSACTIONS: {csv_seconds:.1f} s; {csv_nodes:,} nodes, {csv_rels:,} relationships; "
                      f"{csv_rate:,.0f} entities/s (Neo4j time only)", flush=True)
                clear_graph(driver)
                # The ETL starts, as LOAD CSV did, from a freshly started empty database (not one whose
                # deleted graph the server has still to write out when it stops).
                server.stop(instance)
                server.start(instance)

            started = time.monotonic()
            # Into the empty database: the bulk path (etl/bulk.py), as `flask etl load` takes it.
            result = load_files(files, driver, settings, progress=True, instance=instance)
            first_load = time.monotonic() - started
            nodes, rels = bulk.count_entities(driver)
            read = sum(f.rows_read for f in result.files)
            rejected = sum(f.rows_rejected for f in result.files)
            print(f"\n首次加载 / first load: {first_load:.1f} s; {nodes:,} nodes, {rels:,} relationships; "
                  f"{read:,} rows read, {rejected:,} rejected", flush=True)
            etl_rate = (nodes + rels) / first_load
            print(f"  {nodes / first_load:,.0f} nodes/s, {rels / first_load:,.0f} relationships/s, "
                  f"{etl_rate:,.0f} entities/s (end to end: read, validate, transform, write)", flush=True)
            for item in result.files:
                print(f"  {Path(item.file).name:<20} {item.rows_read:>10,} rows {item.seconds:>8.1f} s", flush=True)
            if csv_rate:
                print(f"比值 / ratio ETL ÷ LOAD CSV (entities/s): {etl_rate / csv_rate:.2f}", flush=True)

            print(f"  峰值内存 / peak RSS so far: {_peak_mb():,.0f} MB", flush=True)

            started = time.monotonic()
            load_files(files, driver, settings, progress=False)
            print(f"再次加载（未变）/ unchanged re-load: {time.monotonic() - started:.1f} s", flush=True)

            copies = changed_copies(files, BENCH_DIR / f"changed-{args.households}")
            started = time.monotonic()
            changed = load_files(copies, driver, settings, progress=False)
            seconds = time.monotonic() - started
            sent = sum(f.rows_loaded - f.rows_unchanged for f in changed.files)
            print(f"再次加载（1 % 的行已变）/ re-load with 1 % of rows changed: {seconds:.1f} s; "
                  f"{sent:,} rows written, {sum(f.rows_unchanged for f in changed.files):,} unchanged", flush=True)
            for item in changed.files:
                print(f"  {Path(item.file).name:<20} {item.rows_read:>10,} rows {item.seconds:>8.1f} s", flush=True)
            print(f"ETL 进程峰值内存 / peak RSS of the ETL process: {_peak_mb():,.0f} MB; its bulk workers: "
                  f"{result.worker_peak_kb / 1024:,.0f} MB each at most", flush=True)
            print(f"图保留在 / graph kept in {instance.home} (bench/match_province.py uses it)", flush=True)
    finally:
        server.stop(instance)
    return 0


if __name__ == "__main__":
    sys.exit(main())
