"""Builders and verifiers of the derived datasets (called by fetch_data.py)."""

from __future__ import annotations

from pathlib import Path


def check_listing(path: Path, expected: list[str]) -> None:
    """Raise ``ValueError`` unless the folder ``path`` holds exactly the files ``expected``."""
    path = Path(path)
    if not path.is_dir():
        raise ValueError(f"{path} is not a directory")
    names = sorted(p.name for p in path.iterdir())
    if names != sorted(expected):
        missing = sorted(set(expected) - set(names))
        extra = sorted(set(names) - set(expected))
        raise ValueError(f"expected {len(expected)} files; missing {missing[:3]}, "
                         f"unexpected {extra[:3]}")
