"""The analysts' notebooks as committed: no outputs, one `parameters` cell (papermill), no graph access (they read
the analyst export), and the first cell finds the project without the working directory. They run, for two
counties and from a copy outside the repository, in tests/integration/test_notebooks.py."""
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from core.settings import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
IDS = [path.stem for path in NOTEBOOKS]
# The live graph: its driver, its queries, the local server. Notebooks read services.analyst_data instead.
GRAPH_ACCESS = re.compile(r"^\s*(from|import)\s+(graph|neo4j|neo4j_viz)\b|create_driver|GraphDatabase|bolt://",
                          re.MULTILINE)


def _code(path) -> list[str]:
    return [cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]


def test_notebooks_are_committed_without_outputs():
    assert len(NOTEBOOKS) >= 4
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        assert all(not cell.get("outputs") and cell.get("execution_count") is None
                   for cell in notebook.cells if cell.cell_type == "code"), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_exactly_one_parameters_cell_with_county_and_date(path):
    cells = [cell for cell in nbformat.read(path, as_version=4).cells
             if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged parameters"
    assert cells[0].cell_type == "code"
    assigned = set(re.findall(r"^(\w+)\s*=", cells[0].source, re.MULTILINE))
    assert {"county", "as_of"} <= assigned, assigned


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebooks_read_the_export_not_the_graph(path):
    for source in _code(path):
        assert not GRAPH_ACCESS.search(source), f"{path.name} reaches the graph:\n{source[:300]}"
    assert any("services.notebook_support" in source or "services.analyst_data" in source for source in _code(path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_the_first_cell_does_not_look_at_the_working_directory(path):
    sources = "\n".join(_code(path))
    assert "Path.cwd()" not in sources and "os.getcwd()" not in sources and "os.chdir" not in sources


def test_setup_finds_the_project_from_the_environment_not_the_working_directory(tmp_path):
    """The setup cell of a notebook, run by this environment's Python in a folder outside the repository
    with no PYTHONPATH, imports the project (installed, or found beside the environment's .venv)."""
    notebook = nbformat.read(NOTEBOOKS[0], as_version=4)
    setup = next(cell.source for cell in notebook.cells if cell.cell_type == "code" and "notebook_support" in cell.source)
    head = setup.split("\nimport numpy")[0]  # the import part, before the data is read
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", head + "\nimport services.notebook_support as nbs\n"
                             "print(nbs.project_root())"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(PROJECT_ROOT)


def test_settings_read_the_project_roots_env_under_make_notebook(tmp_path):
    """`make notebook` starts kernels in notebooks/: a .env at the project root is read, one in the working
    directory is not. Checked on a copy of core/ (a project of its own) so the repository's .env is untouched."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "core", project / "core", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "notebooks").mkdir()
    (project / ".env").write_text("LOCAL_NEO4J_PORT=7999\nNEO4J_DATABASE=from-root\n", encoding="utf-8")
    (project / "notebooks" / ".env").write_text("LOCAL_NEO4J_PORT=7111\nNEO4J_DATABASE=from-cwd\n", encoding="utf-8")
    env = {key: value for key, value in os.environ.items()
           if key not in ("LOCAL_NEO4J_PORT", "NEO4J_DATABASE", "NEO4J_URI")}
    env["PYTHONPATH"] = str(project)
    result = subprocess.run([sys.executable, "-c", "from core.settings import Settings; s = Settings(); "
                             "print(s.local_neo4j_port, s.neo4j_database)"],
                            cwd=project / "notebooks", env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["7999", "from-root"]
