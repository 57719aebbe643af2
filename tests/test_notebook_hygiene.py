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


def challenge_indices(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
            for _ in re.findall(r"^### Challenge: \S", source(c), re.M)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_challenges_have_hidden_runnable_solutions(path):
    """STYLE.md: a challenge cell, then its solution cells (tagged ``solution``, source
    and outputs collapsed so the answer is not visible), ending with a markdown cell
    that explains the answer."""
    nb = load(path)
    minimum = 2 if path.stem.startswith("00") else 3
    challenges = challenge_indices(nb)
    assert len(challenges) >= minimum, f"{len(challenges)} challenges, need {minimum}"
    assert len(set(challenges)) == len(challenges), "one challenge per markdown cell"
    for i in challenges:
        assert "solution" not in tags(nb.cells[i]), f"challenge prompt at cell {i} is tagged"
        block = []
        for cell in nb.cells[i + 1:]:
            if "solution" not in tags(cell):
                break
            block.append(cell)
        assert block, f"challenge at cell {i} is not followed by solution cells"
        assert block[-1].cell_type == "markdown", (
            f"the solution of the challenge at cell {i} must end with a markdown explanation")
    for cell in nb.cells:
        if "solution" in tags(cell):
            hidden = cell.metadata.get("jupyter", {})
            assert hidden.get("source_hidden") is True, f"solution source shows: {source(cell)[:50]!r}"
            if cell.cell_type == "code":
                assert hidden.get("outputs_hidden") is True, (
                    f"solution output shows the answer: {source(cell)[:50]!r}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_challenges_sit_beside_the_sections_they_practise(path):
    """Not bunched at the end: the first comes in the first half of the notebook, and
    they are spread over at least half as many ``##`` sections as there are challenges."""
    nb = load(path)
    challenges = challenge_indices(nb)
    assert challenges and challenges[0] < len(nb.cells) / 2, "first challenge comes too late"
    section_of, current = {}, 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and re.search(r"^## ", source(cell), re.M):
            current = i
        section_of[i] = current
    sections = {section_of[i] for i in challenges}
    assert len(sections) >= -(-len(challenges) // 2), (
        f"{len(challenges)} challenges in only {len(sections)} section(s)")


def names_stored_and_loaded(code: str) -> tuple[set, set]:
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    tree = ast.parse(code)
    stored, loaded = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (stored if isinstance(node.ctx, (ast.Store, ast.Del)) else loaded).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stored.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            stored.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.arg):
            stored.add(node.arg)
    return stored, loaded


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_cell_depends_on_a_solution(path):
    """Learner handouts blank the solutions: a name defined only in a solution must not
    be used by any later cell outside the solutions."""
    nb = load(path)
    defined_outside, only_in_solutions = set(), set()
    for cell in nb.cells:
        if cell.cell_type != "code" or not source(cell).strip():
            continue
        stored, loaded = names_stored_and_loaded(source(cell))
        if "solution" in tags(cell):
            only_in_solutions |= stored - defined_outside
            continue
        leaked = (loaded - stored) & only_in_solutions
        assert not leaked, f"uses {sorted(leaked)} defined only in a solution: {source(cell)[:60]!r}"
        defined_outside |= stored
        only_in_solutions -= stored


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_further_reading_with_links(path):
    texts = [source(c) for c in load(path).cells if c.cell_type == "markdown"]
    reading = [t for t in texts if re.search(r"^## Further reading", t, re.M)]
    assert len(reading) == 1, "one '## Further reading' section"
    section = reading[0].split("## Further reading", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"\]\(https?://", section), "further reading needs links"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_execution_timestamps_in_cell_metadata(path):
    """Per-cell timing metadata changes on every run and makes noisy diffs."""
    for cell in load(path).cells:
        meta = cell.get("metadata", {})
        assert "execution" not in meta and "ExecuteTime" not in meta, (
            f"execution timestamps stored: {source(cell)[:50]!r} (strip cell metadata "
            f"'execution' before committing)")


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
