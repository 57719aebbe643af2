"""Is this machine ready for the course? Used by the introduction notebook.

Each function returns a list of problems, each phrased with what to do about it; an
empty list means all is well.
"""

from __future__ import annotations

import importlib.util
import sys
from importlib.metadata import PackageNotFoundError, version

from medimg.data import REPO_ROOT

PYTHON = (3, 11)


def pinned_versions() -> dict:
    """Direct dependencies and their pinned versions, from requirements.in and
    requirements-nodeps.txt (data-only packages)."""
    pins = {}
    lines = [*(REPO_ROOT / "requirements.in").read_text().splitlines(),
             *(REPO_ROOT / "requirements-nodeps.txt").read_text().splitlines()]
    for line in lines:
        line = line.split("#")[0].strip()
        if "==" in line:
            name, pin = line.split("==")
            pins[name.strip()] = pin.strip()
    return pins


def environment_problems() -> list[str]:
    problems = []
    if sys.version_info[:2] != PYTHON:
        problems.append(f"Python {sys.version_info[0]}.{sys.version_info[1]} is running; the "
                        f"course is pinned for {PYTHON[0]}.{PYTHON[1]}: run `make lab`, which "
                        f"creates .venv with the right one")
    for name, pin in pinned_versions().items():
        try:
            found = version(name)
        except PackageNotFoundError:
            problems.append(f"{name} is not installed: run `pip install -r requirements.txt`")
            continue
        if found != pin:
            problems.append(f"{name} {found} is installed but the course needs {pin}: "
                            f"run `pip install -r requirements.txt`")
    return problems


def _fetch_data_module():
    if "fetch_data" in sys.modules:
        return sys.modules["fetch_data"]
    spec = importlib.util.spec_from_file_location("fetch_data", REPO_ROOT / "fetch_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["fetch_data"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def data_problems() -> list[str]:
    """Verify every dataset as ``python fetch_data.py --check`` does."""
    fetch_data = _fetch_data_module()
    root = fetch_data.data_root()
    manifest = fetch_data.read_manifest(root)
    problems = []
    for ds in fetch_data.DATASETS:
        try:
            fetch_data.verify(ds, root / ds.path, manifest.get(ds.name, {}).get("sha256"))
        except Exception as exc:  # reported, not raised: the learner sees them all
            problems.append(f"{ds.name}: {fetch_data.explain(exc)} — run `python fetch_data.py`")
    return problems
