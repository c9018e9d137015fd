"""The analysts' notebooks run, for two counties, on the pseudonymised analyst export — and show nothing personal.

Two counties are generated (the sample county and a second one), loaded as `make run` loads the sample (last
year's households, then the current files), matched, their outcomes computed, and exported with
`services.analyst_data.export_county` into a temporary folder. Every notebook of notebooks/ (globbed: 01–04) is
copied outside the repository and executed there with papermill, once per county (`county`, `data_root`
parameters): each must finish without error and render at least one plot. Then every output — text, HTML,
Markdown, images, the outputs' JSON as a whole — is scanned for the real personal values read from the graph and
the generated files: 户编号, head and member names, phones, ID numbers, and the ID-number hashes (`head_id_hash`,
`head_id_suffix_hash`, member `id_hash` / `id_suffix_hash`, any property the model marks secret) or an
8-character prefix of one. Any hit fails.

(That the notebooks are committed without outputs, with one `parameters` cell and no graph access:
tests/unit/test_notebooks.py.)"""
import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest

from cli.sample_command import SAMPLE_FILES
from core import codes
from core.settings import PROJECT_ROOT
from devtools.synth import generate, sample_loads
from etl.load import load_files
from graph.maintenance import clear_graph
from graph.model import NODES
from matching.run import MatchParams, MatchRunner
from services import outcomes
from services.analyst_data import export_county
from services.context import Context

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
COUNTIES = ["433123000000", "433124000000"]  # 凤凰县 (the sample county) and 花垣县
# Headers of the generated files whose values are personal (names, ID numbers, phones, 户编号).
PERSONAL_HEADERS = ("姓名", "证件", "身份证", "电话", "手机", "联系人", "户编号")
HEX_RUN = re.compile(r"[0-9a-f]{8,}")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


@pytest.fixture(scope="module")
def exports(neo4j_driver, test_settings, tmp_path_factory):
    """Two counties loaded, matched, with outcomes, exported; → (root of the exports, generated files' folder)."""
    clear_graph(neo4j_driver)
    settings = test_settings.model_copy(update={"match_cluster": "inprocess"})
    out = tmp_path_factory.mktemp("synth")
    generate(out, households=2400, enterprises=64, projects=12, counties=COUNTIES, progress=False, previous_year=True)
    for paths, as_of in sample_loads(out, SAMPLE_FILES):
        assert not load_files(paths, neo4j_driver, settings, progress=False, as_of=as_of).failed_files
    MatchRunner(neo4j_driver, settings, progress=None).run(COUNTIES, MatchParams())
    context = Context(neo4j_driver, settings)
    root = tmp_path_factory.mktemp("analyst")
    for county in COUNTIES:
        outcomes.refresh(context, county)
        export_county(context, county, root=root)
    return root, out


@pytest.fixture(scope="module")
def personal_values(exports, neo4j_driver, test_settings):
    """{kind: set of values} that must appear in no output: from the graph (户编号, every personal and secret
    property of the model) and from the generated files (names, ID numbers, phones as written)."""
    _, out = exports
    found: dict[str, set[str]] = {"text": set(), "hex": set()}
    with neo4j_driver.session(database=test_settings.neo4j_database) as session:
        found["text"] |= {row["id"] for row in session.run("MATCH (h:Household) RETURN h.household_id AS id")}
        for label, node in NODES.items():
            names = [*node.personal, *node.secret]
            if not names:
                continue
            for row in session.run(f"MATCH (n:`{label}`) RETURN [p IN $names | n[p]] AS values", names=names):
                for value in row["values"]:
                    for item in value if isinstance(value, list) else [value]:
                        if isinstance(item, str) and len(item) >= 2:
                            (found["hex"] if re.fullmatch(r"[0-9a-f]{16,}", item) else found["text"]).add(item)
    for path in out.rglob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in frame.columns:
            if any(word in column for word in PERSONAL_HEADERS):
                found["text"] |= {value.strip() for value in frame[column] if len(value.strip()) >= 2}
    assert len(found["hex"]) > 1000 and len(found["text"]) > 1000, {k: len(v) for k, v in found.items()}
    return found


def _public_names(root: Path) -> list[str]:
    """Names that are not personal and may contain a person's name by chance (places, enterprises, projects,
    code labels): removed from the outputs before names are looked for."""
    import pyarrow.parquet as pq

    names = {label for code_list in codes.Code.__subclasses__() for label in code_list.labels().values()}
    for table, column in (("regions", "name"), ("enterprises", "name"), ("projects", "name")):
        for path in root.rglob(f"{table}.parquet"):
            names |= {value for value in pq.read_table(path, columns=[column]).column(column).to_pylist() if value}
    return sorted(names, key=len, reverse=True)


def _outputs_text(notebook) -> str:
    """Everything the notebook's outputs hold: their JSON (text, HTML, Markdown, images, metadata)."""
    outputs = [cell.get("outputs", []) for cell in notebook.cells if cell.cell_type == "code"]
    return json.dumps(outputs, ensure_ascii=False)


def _leaks(text: str, source: str, values: dict[str, set[str]], public: list[str]) -> list[str]:
    hits = []
    hex_prefixes = {value[:8] for value in values["hex"]}
    for run in HEX_RUN.findall(text):
        if run[:8] in hex_prefixes:
            hits.append(f"hash prefix {run[:8]}")
    hits += [f"mobile-like number {m}" for m in MOBILE.findall(text)]
    cleaned = text
    for name in public:
        cleaned = cleaned.replace(name, "·")
    for value in values["text"]:
        # A two-character name also written in the notebook's own words (e.g. inside a heading) is not a leak.
        if value in cleaned and not (len(value) <= 2 and value in source):
            hits.append(f"personal value {value!r}")
    return hits


@pytest.mark.parametrize("county", COUNTIES)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_for_the_county_and_shows_nothing_personal(path: Path, county, exports, personal_values,
                                                                 tmp_path, monkeypatch):
    root, _ = exports
    # The notebooks need no database: nothing of the test Neo4j is passed to the kernel.
    for name in ("NEO4J_URI", "LOCAL_NEO4J_PORT", "LOCAL_NEO4J_HOME", "PYTHONPATH"):
        monkeypatch.delenv(name, raising=False)
    copy = tmp_path / path.name  # a copy outside the repository, run where it lies
    shutil.copy(path, copy)
    executed = tmp_path / f"executed-{path.name}"
    papermill.execute_notebook(str(copy), str(executed), parameters={"county": county, "data_root": str(root)},
                               kernel_name="python3", cwd=str(tmp_path), progress_bar=False, log_output=False)
    notebook = nbformat.read(executed, as_version=4)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "at least one plot renders"
    text = _outputs_text(notebook)
    manifest = json.loads(next((root / county).glob("*/manifest.json")).read_text(encoding="utf-8"))
    assert manifest["county_name"] in text, "the notebook analysed the county it was given"
    source = "\n".join(cell.source for cell in notebook.cells)
    leaks = _leaks(text, source, personal_values, _public_names(root))
    assert not leaks, f"{path.name} ({county}) shows personal data: {leaks[:10]}"


def test_the_scan_finds_a_planted_leak(exports, personal_values):
    """The scan itself works: a 户编号, a name, a hash prefix planted in an output are found."""
    root, _ = exports
    household = next(value for value in personal_values["text"] if re.fullmatch(r"\d{12,}", value))
    digest = next(iter(personal_values["hex"]))
    name = next(value for value in personal_values["text"] if len(value) == 3 and re.fullmatch(r"[\u4e00-\u9fff]+", value))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=f"户 {household}"),
        nbformat.v4.new_output("display_data", data={"text/html": f"<td>{name}</td>", "text/plain": "x"}),
        nbformat.v4.new_output("display_data", data={"text/markdown": f"ref H{digest[:10]}"}),
    ])])
    leaks = _leaks(_outputs_text(notebook), "", personal_values, _public_names(root))
    assert len(leaks) == 3, leaks
