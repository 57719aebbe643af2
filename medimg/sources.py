"""Locate files that ship inside installed pip packages (the raw material of the data)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

# Import name -> the pip distribution that provides it (for the error message).
PIP_NAMES = {
    "data_store": "pydicom-data",
    "pydicom": "pydicom",
    "nibabel": "nibabel",
    "nilearn": "nilearn",
    "skimage": "scikit-image",
    "pydeface": "pydeface (requirements-nodeps.txt)",
}


class MissingSourceError(RuntimeError):
    """A package or a file inside it that a dataset is built from is not available."""


def package_dir(module: str) -> Path:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        pip_name = PIP_NAMES.get(module, module)
        raise MissingSourceError(
            f"package '{pip_name}' is not installed: run `pip install -r requirements.txt` "
            f"(or `pip install {pip_name}`)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def package_file(module: str, relpath: str) -> Path:
    """Path of ``relpath`` inside the installed package ``module``; clear error if absent."""
    path = package_dir(module) / relpath
    if not path.is_file():
        pip_name = PIP_NAMES.get(module, module)
        raise MissingSourceError(
            f"'{relpath}' is missing from package '{pip_name}' ({path}): reinstall it with "
            f"`pip install --force-reinstall -r requirements.txt`"
        )
    return path
