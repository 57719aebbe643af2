"""Every notebook follows STYLE.md and is committed in a state nbval can trust."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = ["00_introduction", "01_imaging_modalities", "02_mri",
            "03_registration_segmentation", "04_preparing_for_ml", "05_pathology",
            "06_anonymization", "07_generative_ai"]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def load(path: Path):
    return nbformat.read(path, as_version=4)


def source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and source(c).strip()]


def tags(cell) -> set:
    return set(cell.get("metadata", {}).get("tags", []))


def output_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", "") if isinstance(out.get("text", ""), str)
                     else "".join(out["text"]))
        data = out.get("data", {}).get("text/plain", "")
        parts.append(data if isinstance(data, str) else "".join(data))
    return "\n".join(parts)


def test_there_are_notebooks_with_the_agreed_names():
    assert NOTEBOOKS, "no notebooks found"
    for path in NOTEBOOKS:
        assert path.stem in EXPECTED, f"{path.name}: name not in STYLE.md's list"


ids = [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_valid_format_and_python3_kernel(path):
    nb = load(path)
    nbformat.validate(nb)
    spec = nb.metadata.get("kernelspec", {})
    assert spec.get("name") == "python3" and spec.get("language") == "python"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_title_cell(path):
    first = load(path).cells[0]
    text = source(first)
    assert first.cell_type == "markdown" and text.startswith("# ")
    assert re.search(r"\*Teaching: \d+ min · Exercises: \d+ min\*", text)
    assert "**Questions**" in text and "**Objectives**" in text
    for heading in ("**Questions**", "**Objectives**"):
        after = text.split(heading, 1)[1]
        assert re.search(r"^\s*[-*] \S", after, re.M), f"{heading} needs bullets"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_imports_live_in_the_setup_cell_only(path):
    cells = code_cells(load(path))
    setup = ast.parse(source(cells[0]))
    assert any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in setup.body), (
        "the first code cell is the setup cell with every import")
    for cell in cells[1:]:
        tree = ast.parse("\n".join(line for line in source(cell).splitlines()
                                   if not line.lstrip().startswith(("%", "!"))))
        imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert not imports, (f"import outside the setup cell: "
                             f"{source(cell).splitlines()[0][:60]!r}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_challenges_have_hidden_runnable_solutions(path):
    nb = load(path)
    minimum = 2 if path.stem.startswith("00") else 3
    challenges = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
                  for _ in re.findall(r"^### Challenge: \S", source(c), re.M)]
    assert len(challenges) >= minimum, f"{len(challenges)} challenges, need {minimum}"
    assert len(set(challenges)) == len(challenges), "one challenge per markdown cell"
    for i in challenges:
        nxt = nb.cells[i + 1]
        assert nxt.cell_type == "code" and "solution" in tags(nxt), (
            f"challenge at cell {i} is not followed by a solution cell")
    for cell in nb.cells:
        if "solution" in tags(cell):
            assert cell.metadata.get("jupyter", {}).get("source_hidden") is True


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_key_points_and_credits(path):
    nb = load(path)
    texts = [source(c) for c in nb.cells if c.cell_type == "markdown"]
    key = [t for t in texts if t.startswith("## Key points")]
    assert len(key) == 1, "one '## Key points' section"
    section = re.split(r"^## ", key[0][3:], flags=re.M)[0]  # up to the next heading
    bullets = re.findall(r"^[-*] ", section, re.M)
    assert 3 <= len(bullets) <= 6, f"{len(bullets)} key points (3-6)"
    assert any(re.search(r"^## Credits", t, re.M) for t in texts), "a '## Credits' section"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_executed_in_order_without_errors(path):
    cells = code_cells(load(path))
    counts = [c.execution_count for c in cells]
    assert None not in counts, "every code cell must be executed (nbval needs outputs)"
    assert counts == list(range(1, len(cells) + 1)), "run the notebook top to bottom once"
    for cell in cells:
        for out in cell.outputs:
            if out.output_type == "error":
                assert "raises-exception" in tags(cell), f"stored error: {out.ename}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_outputs_free_of_warnings_and_machine_specific_text(path):
    for cell in code_cells(load(path)):
        text = output_text(cell)
        for bad in ("DeprecationWarning", "FutureWarning", "UserWarning", "RuntimeWarning"):
            assert bad not in text, f"stored {bad}: {source(cell)[:60]!r}"
        for local in ("/work/", "/tmp/", "/home/", "/root/", "site-packages"):
            assert local not in text, (f"machine-specific path {local!r} in an output "
                                       f"(fails on another checkout): {source(cell)[:60]!r}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_widget_cells_are_not_compared_by_nbval(path):
    for cell in code_cells(load(path)):
        has_widget = any(WIDGET_MIME in out.get("data", {}) for out in cell.outputs)
        uses_interact = re.search(r"\binteract(ive)?\(", source(cell))
        if has_widget or uses_interact:
            assert "nbval-ignore-output" in tags(cell), (
                f"widget cell must be tagged nbval-ignore-output: {source(cell)[:60]!r}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebooks_never_write_into_data(path):
    for cell in code_cells(load(path)):
        code = source(cell)
        assert not re.search(r"""['"]\.\./data/""", code), "use data.path(...) for inputs"
        assert "data_dir()" not in code or "output" in code
