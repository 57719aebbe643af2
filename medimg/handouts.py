"""Learner handouts: the course notebooks without solutions, ready for live coding.

    python -m medimg.handouts notebooks handouts      (or: make handouts)

For every notebook in the source folder, the handout keeps every cell except the
solutions: the cells tagged ``solution`` that follow a challenge are replaced by one
empty code cell with a short placeholder comment. All outputs and execution counts are
cleared, so learners start from a clean notebook. The instructor notebooks are never
modified. The whole handout folder is written under a temporary name and renamed into
place only when every notebook has been written.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from medimg._staging import notebooks_in, staged_folder

PLACEHOLDER = "# Your solution here: write and run your code, then compare with a neighbour."
CHALLENGE = re.compile(r"^### Challenge: \S", re.M)


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def is_solution(cell) -> bool:
    return "solution" in cell.get("metadata", {}).get("tags", [])


def make_handout(nb):
    """Return a learner copy of ``nb`` (an nbformat notebook); ``nb`` is not changed."""
    import copy

    import nbformat

    out = copy.deepcopy(nb)
    cells = []
    for cell in out.cells:
        if is_solution(cell):
            continue
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
        if cell.cell_type == "markdown" and CHALLENGE.search(_source(cell)):
            cells.append(nbformat.v4.new_code_cell(PLACEHOLDER))
    out.cells = cells
    out.metadata.pop("widgets", None)  # stored widget state belongs to the outputs
    return out


def write_handouts(src: Path, dest: Path) -> list[Path]:
    """Write a handout for every notebook in ``src`` into ``dest`` (replaced whole)."""
    import nbformat

    notebooks = notebooks_in(src, "python -m medimg.handouts notebooks handouts")
    if dest.resolve() == src.resolve():
        raise SystemExit("the handout folder must differ from the notebook folder")
    with staged_folder(dest) as tmp:
        for path in notebooks:
            handout = make_handout(nbformat.read(path, as_version=4))
            nbformat.validate(handout)
            nbformat.write(handout, tmp / path.name)
    return [dest / p.name for p in notebooks]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, nargs="?", default=Path("notebooks"))
    parser.add_argument("dest", type=Path, nargs="?", default=Path("handouts"))
    args = parser.parse_args(argv)
    written = write_handouts(args.source, args.dest)
    print(f"{len(written)} learner notebooks without solutions in {args.dest}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
