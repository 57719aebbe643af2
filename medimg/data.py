"""Find the lesson data built by ``python fetch_data.py``.

``fetch_data.py`` writes ``data/manifest.json`` listing every dataset it built and
verified; notebooks ask for a dataset by name::

    from medimg import data
    t1_path = data.path("mni_t1")
"""

from __future__ import annotations

import json
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
MANIFEST_NAME = "manifest.json"
FETCH_HINT = "run `python fetch_data.py` in the course folder (or `make data`)"


class DataNotFoundError(FileNotFoundError):
    """A dataset is missing: the message says how to build it."""


def data_dir() -> Path:
    """The data folder: ``$MEDIMG_DATA`` if set, else ``data/`` beside this package."""
    return Path(os.environ.get("MEDIMG_DATA", REPO_ROOT / "data")).resolve()


def output_dir(name: str | None = None) -> Path:
    """Folder for what notebooks produce (``notebooks/output``), created on demand.

    ``name`` adds a sub-folder. Notebooks never write into ``data/``.
    """
    out = REPO_ROOT / "notebooks" / "output"
    if name:
        out = out / name
    out.mkdir(parents=True, exist_ok=True)
    return out


def manifest() -> dict:
    """The manifest written by ``fetch_data.py``: dataset name -> entry."""
    path = data_dir() / MANIFEST_NAME
    if not path.is_file():
        raise DataNotFoundError(f"no lesson data in {data_dir()}: {FETCH_HINT}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))["datasets"]
    except (ValueError, KeyError) as exc:
        raise DataNotFoundError(f"{path} is damaged ({exc}): {FETCH_HINT}") from None


def names() -> list[str]:
    """Names of all datasets that have been built."""
    return sorted(manifest())


def path(name: str) -> Path:
    """Path of the dataset ``name`` (a file, or a folder for multi-file datasets)."""
    entries = manifest()
    if name not in entries:
        close = [n for n in entries if name.lower() in n or n in name.lower()]
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise DataNotFoundError(
            f"unknown dataset '{name}'.{hint} `medimg.data.names()` lists the datasets; "
            f"if it should exist, {FETCH_HINT}"
        )
    target = data_dir() / entries[name]["path"]
    if not target.exists():
        raise DataNotFoundError(f"dataset '{name}' is missing ({target}): {FETCH_HINT}")
    return target
