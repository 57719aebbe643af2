"""INSTRUCTORS.md stays in step with the notebooks it describes."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NOTES = ROOT / "INSTRUCTORS.md"


def stated_minutes(path: Path) -> tuple[int, int]:
    first = nbformat.read(path, as_version=4).cells[0].source
    match = re.search(r"\*Teaching: (\d+) min · Exercises: (\d+) min\*", first)
    return int(match[1]), int(match[2])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_episode_has_a_section_with_the_notebooks_own_timing(path):
    text = NOTES.read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.M)
    mine = [s for s in sections if s.startswith(f"`{path.stem}`")]
    assert len(mine) == 1, f"INSTRUCTORS.md needs one section '## `{path.stem}` …'"
    teaching, exercises = stated_minutes(path)
    assert f"{teaching} min teaching, {exercises} min exercises" in mine[0], (
        f"{path.stem}: the notebook says {teaching} + {exercises} min; update INSTRUCTORS.md")
    for heading in ("Where learners get stuck", "Slow cells", "Offline"):
        assert f"**{heading}**" in mine[0], f"{path.stem}: no '**{heading}**' part"


def test_the_timing_table_adds_up():
    text = NOTES.read_text(encoding="utf-8")
    total_t = sum(stated_minutes(p)[0] for p in NOTEBOOKS)
    total_e = sum(stated_minutes(p)[1] for p in NOTEBOOKS)
    assert f"| total | {total_t} | {total_e} | {total_t + total_e} |" in text
