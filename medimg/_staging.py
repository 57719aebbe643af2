"""Write a whole output folder under a temporary name, then swap it into place."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path


def notebooks_in(src: Path, command: str) -> list[Path]:
    """The course notebooks in ``src``; a clear error when there are none."""
    notebooks = sorted(src.glob("*.ipynb")) if src.is_dir() else []
    if not notebooks:
        raise SystemExit(f"no notebooks found in {src}: run this from the course folder "
                         f"({command})")
    return notebooks


@contextmanager
def staged_folder(dest: Path):
    """Yield an empty temporary folder beside ``dest``. If the block succeeds, the
    folder replaces ``dest`` whole; if it fails, ``dest`` is left as it was."""
    tmp = dest.with_name(f".{dest.name}.partial")
    old = dest.with_name(f".{dest.name}.old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
        shutil.rmtree(old, ignore_errors=True)
        if dest.exists():
            dest.rename(old)
        tmp.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
