"""The analysts' notebooks run top to bottom against the test Neo4j on the sample county, and their
plots and graph view render (checked by the presence of their outputs).

(That they are committed without outputs: tests/unit/test_notebooks.py.)"""
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from core.settings import PROJECT_ROOT
from cli.sample_command import SAMPLE_FILES
from devtools.synth import PRESETS, generate, sample_loads
from etl.load import load_files
from graph.maintenance import clear_graph
from matching.run import MatchParams, MatchRunner
from services import outcomes
from services.context import Context

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def sample_graph(neo4j_driver, test_settings, tmp_path_factory):
    """The sample county as `make run` loads it (last year's households, then the current files), matched once,
    its outcomes computed."""
    clear_graph(neo4j_driver)
    preset = PRESETS["sample"]
    out = tmp_path_factory.mktemp("sample")
    generate(out, households=preset["households"], enterprises=preset["enterprises"], projects=preset["projects"],
             counties=preset["counties"], progress=False, previous_year=True)
    for paths, as_of in sample_loads(out, SAMPLE_FILES):
        assert not load_files(paths, neo4j_driver, test_settings, progress=False, as_of=as_of).failed_files
    MatchRunner(neo4j_driver, test_settings, progress=None).run(preset["counties"], MatchParams())
    outcomes.refresh(Context(neo4j_driver, test_settings), preset["counties"][0])
    return preset["counties"][0]


def _outputs(notebook, kind: str) -> list:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
            if kind in output.get("data", {})]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_renders(path: Path, sample_graph, test_settings, monkeypatch):
    # The kernel reads the same settings as the app, from its environment: point it at the test Neo4j.
    monkeypatch.delenv("NEO4J_URI", raising=False)
    if test_settings.neo4j_uri:
        monkeypatch.setenv("NEO4J_URI", test_settings.neo4j_uri)
    monkeypatch.setenv("LOCAL_NEO4J_PORT", str(test_settings.local_neo4j_port))
    monkeypatch.setenv("LOCAL_NEO4J_HOME", str(test_settings.local_neo4j_home))
    monkeypatch.setenv("LIANJIE_COUNTY", sample_graph)
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()  # raises on any cell error
    images = _outputs(notebook, "image/png")
    assert images, "plots render"
    if path.stem.startswith("01"):
        html = [output["data"]["text/html"] for output in _outputs(notebook, "text/html")]
        assert any("<script" in text and len(text) > 100_000 for text in html), "the offline graph view renders"
    text = "".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []))
    assert "Traceback" not in text
    if path.stem.startswith("04"):
        assert "联结户每人每年收入比可比未联结户多增加" in text and "与存储的结果一致" in text
        shown = text + "".join(output.get("data", {}).get(kind, "") for cell in notebook.cells
                               for output in cell.get("outputs", []) for kind in ("text/html", "text/markdown"))
        assert "按联结方式" in shown and "就业务工" in shown
        assert not re.search(r"4331230\d{9}", shown), "no 户编号 is shown"
