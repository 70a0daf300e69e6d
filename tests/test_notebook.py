"""The exploration notebook runs top to bottom on a project that has been run, so it cannot rot."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow


def test_exploration_notebook_executes(ran_copy):
    project_copy = ran_copy  # after one default run
    shutil.copytree(PROJECT_ROOT / "notebooks", project_copy / "notebooks")
    notebook = nbformat.read(project_copy / "notebooks" / "01_explore_segments.ipynb", as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(project_copy / "notebooks")}},
    ).execute()

    def text_of(cell) -> str:
        """What a reader sees printed or returned by the cell (log lines excluded)."""
        return "".join(
            output.get("text", "")
            if output["output_type"] == "stream" and output["name"] == "stdout"
            else output.get("data", {}).get("text/plain", "")
            if output["output_type"] == "execute_result"
            else ""
            for output in cell.get("outputs", [])
        )

    def mimetypes_of(cell) -> list[str]:
        return [mime for output in cell.get("outputs", []) for mime in output.get("data", {})]

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert "5 segments (consensus)" in text_of(code[2])
    assert "Mid income · Moderate spending · Middle-aged" in text_of(code[3])
    assert mimetypes_of(code[4]).count("image/png") == 3
    assert "application/vnd.plotly.v1+json" in mimetypes_of(code[5])
    rerun = text_of(code[-1]).strip().splitlines()
    assert len(rerun) == 1 + 4, rerun  # header + four segments after the re-run with k=4
