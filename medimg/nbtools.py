"""Execute and tidy the course notebooks the way they are committed.

    python -m medimg.nbtools run notebooks/04_preparing_for_ml.ipynb [more.ipynb ...]
    python -m medimg.nbtools tidy notebooks/*.ipynb

``run`` executes a notebook top to bottom in a fresh kernel (working folder
``notebooks/``, one BLAS thread, every deprecation warning shown, as ``make test`` does)
and writes it back with its outputs; ``tidy`` only fixes metadata. Both leave what
nbval and the hygiene tests expect: no per-cell execution timestamps, solution cells
collapsed (source and outputs) and a ``python3`` kernel spec. A notebook that fails to
run is not written back: the error names the cell.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

STRICT = "always::DeprecationWarning,always::FutureWarning,always::PendingDeprecationWarning"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def tidy(nb) -> None:
    """Strip volatile metadata and collapse solutions, in place."""
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in nb.cells:
        meta = cell.setdefault("metadata", {})
        meta.pop("execution", None)
        meta.pop("ExecuteTime", None)
        if "solution" in meta.get("tags", []):
            hidden = meta.setdefault("jupyter", {})
            hidden["source_hidden"] = True
            if cell.cell_type == "code":
                hidden["outputs_hidden"] = True


def run(path: Path, timeout: int = 600) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                      PYTHONWARNINGS=STRICT, PYTHONDONTWRITEBYTECODE="1")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        raise SystemExit(f"{path.name} failed; not written back.\n{exc}") from None
    tidy(nb)
    tmp = path.with_name(f".{path.name}.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["run", "tidy"])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks:
        path = path.resolve()
        if args.command == "run":
            run(path)
        else:
            nb = nbformat.read(path, as_version=4)
            tidy(nb)
            nbformat.write(nb, path)
        print(f"{args.command}: {path.name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
