"""`make handouts`: learner notebooks keep every prompt and lose every solution."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from medimg import handouts

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHALLENGE = re.compile(r"^### Challenge: \S", re.M)


def src(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in NOTEBOOKS}
    dest = tmp_path_factory.mktemp("handouts") / "handouts"
    written = handouts.write_handouts(ROOT / "notebooks", dest)
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in NOTEBOOKS}
    assert before == after, "writing handouts changed an instructor notebook"
    return dest, written


def test_one_handout_per_notebook(built):
    dest, written = built
    assert sorted(p.name for p in dest.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    assert not list(dest.parent.glob(".*partial*")), "temporary folder left behind"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_solution_survives_and_every_prompt_has_an_empty_cell(built, path):
    dest, _ = built
    original = nbformat.read(path, as_version=4)
    handout = nbformat.read(dest / path.name, as_version=4)
    solutions = [src(c).strip() for c in original.cells
                 if handouts.is_solution(c) and src(c).strip()]
    assert solutions, f"{path.name} has no solutions to remove (hygiene should catch this)"
    text = "\n".join(src(c) for c in handout.cells)
    for solution in solutions:
        # every distinctive line of a solution is gone (short lines like "plt.show()" may
        # legitimately appear elsewhere)
        for line in solution.splitlines():
            line = line.strip()
            if len(line) > 40 and line not in "\n".join(
                    src(c) for c in original.cells if not handouts.is_solution(c)):
                assert line not in text, f"solution line survives: {line!r}"
    assert not any(handouts.is_solution(c) for c in handout.cells)
    prompts = [i for i, c in enumerate(handout.cells)
               if c.cell_type == "markdown" and CHALLENGE.search(src(c))]
    assert len(prompts) == sum(1 for c in original.cells if c.cell_type == "markdown"
                               and CHALLENGE.search(src(c)))
    for i in prompts:
        nxt = handout.cells[i + 1]
        assert nxt.cell_type == "code" and src(nxt) == handouts.PLACEHOLDER


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_everything_else_unchanged_and_outputs_cleared(built, path):
    dest, _ = built
    original = nbformat.read(path, as_version=4)
    handout = nbformat.read(dest / path.name, as_version=4)
    kept = [c for c in original.cells if not handouts.is_solution(c)]
    rest = [c for c in handout.cells if src(c) != handouts.PLACEHOLDER]
    assert [(c.cell_type, src(c)) for c in kept] == [(c.cell_type, src(c)) for c in rest]
    for cell in handout.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_challenge_without_solution_and_multi_cell_solutions():
    nb = new_notebook(cells=[
        new_markdown_cell("# T"),
        new_markdown_cell("### Challenge: one\nDo it."),
        new_code_cell("x = 1", metadata={"tags": ["solution"]}),
        new_markdown_cell("Because x is one.", metadata={"tags": ["solution"]}),
        new_code_cell("y = 2"),
        new_markdown_cell("### Challenge: two (discussion)\nThink."),
        new_markdown_cell("## Key points"),
    ])
    out = handouts.make_handout(nb)
    assert [src(c) for c in out.cells] == [
        "# T", "### Challenge: one\nDo it.", handouts.PLACEHOLDER, "y = 2",
        "### Challenge: two (discussion)\nThink.", handouts.PLACEHOLDER, "## Key points"]
    assert len(nb.cells) == 7, "the input notebook was modified"


def test_clear_error_when_there_are_no_notebooks(tmp_path):
    with pytest.raises(SystemExit, match="no notebooks found"):
        handouts.write_handouts(tmp_path / "nowhere", tmp_path / "out")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_handouts_run_top_to_bottom_without_solutions(built, path):
    """Design rule: no later cell depends on a solution, so a learner who skips every
    challenge can still run the whole handout."""
    from nbclient import NotebookClient

    dest, _ = built
    nb = nbformat.read(dest / path.name, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(dest)}})
    client.execute()  # raises CellExecutionError with the failing cell
    errors = [c for c in nb.cells if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"
              and "raises-exception" not in c.metadata.get("tags", [])]
    assert not errors
