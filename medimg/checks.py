"""Is this machine ready for the course? ``make check``, ``python -m medimg.checks``,
and the first cell of the introduction notebook.

Each ``*_problems`` function returns a list of problems, each phrased with what to do
about it; an empty list means all is well. :func:`report` runs them all and prints one
line per problem (or a green summary); :func:`main` is the command line, exit status 1
when anything is wrong.

This module needs only the standard library at import time, so it can report missing
packages and missing data instead of failing on them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

from medimg.data import REPO_ROOT

PYTHON = (3, 11)
WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"
# Each notebook stays under 1 GiB; JupyterLab and a browser need about as much again.
MIN_MEMORY_GIB = 2.0
# The data (~0.3 GiB with the whole-slide image), notebooks/output and some slack.
MIN_DISK_GIB = 2.0
OUTPUT_DIR = REPO_ROOT / "notebooks" / "output"
INSTALL_HINT = "run `pip install -r requirements.txt` in the course's .venv (or `make setup`)"


# ----------------------------------------------------------------------------- Python, pins
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


# ----------------------------------------------------------------------------- data
def _fetch_data_module():
    if "fetch_data" in sys.modules:
        return sys.modules["fetch_data"]
    spec = importlib.util.spec_from_file_location("fetch_data", REPO_ROOT / "fetch_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["fetch_data"] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def _data_hint(root: Path) -> str:
    """How to build the data where the course will look for it."""
    if "MEDIMG_DATA" in os.environ:
        return (f"MEDIMG_DATA points to {root}: build the data there with "
                f"`MEDIMG_DATA={root} python fetch_data.py`, or unset MEDIMG_DATA to use "
                f"the course's data/ folder")
    return "run `python fetch_data.py` in the course folder (or `make data`)"


def data_problems() -> list[str]:
    """Verify every dataset as ``python fetch_data.py --check`` does.

    No data folder or no manifest at all is one problem (not one per dataset); a
    ``MEDIMG_DATA`` that points elsewhere is named in the fix.
    """
    fetch_data = _fetch_data_module()
    root = fetch_data.data_root()
    if not (root / fetch_data.MANIFEST).is_file():
        return [f"no lesson data in {root}: {_data_hint(root)}"]
    manifest = fetch_data.read_manifest(root)
    problems = []
    for ds in fetch_data.DATASETS:
        try:
            fetch_data.verify(ds, root / ds.path, manifest.get(ds.name, {}).get("sha256"))
        except Exception as exc:  # reported, not raised: the learner sees them all
            fix = (_data_hint(root) if "MEDIMG_DATA" in os.environ
                   else "run `python fetch_data.py`")
            problems.append(f"{ds.name}: {fetch_data.explain(exc)} — {fix}")
    return problems


# ----------------------------------------------------------------------------- JupyterLab
def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _disabled_lab_extensions() -> dict:
    """``disabledExtensions`` as JupyterLab merges it: the app's settings folder first,
    then every ``labconfig/page_config.json`` on the Jupyter config path (system, then
    environment, then the user's ``JUPYTER_CONFIG_DIR``; later ones win)."""
    from jupyter_core.paths import jupyter_config_path

    disabled: dict = {}
    sources = [Path(sys.prefix, "share", "jupyter", "lab", "settings", "page_config.json")]
    sources += [Path(p, "labconfig", "page_config.json") for p in reversed(jupyter_config_path())]
    for path in sources:
        value = _read_json(path).get("disabledExtensions", {})
        if isinstance(value, list):  # the old list form
            value = dict.fromkeys(value, True)
        disabled.update(value)
    return disabled


def _is_disabled(name: str, disabled: dict) -> bool:
    """JupyterLab's rule: a key equal to the name, or a pattern matching it, set to true.
    A key for one plugin (``name:plugin``) disables the widget manager too."""
    for pattern, value in disabled.items():
        if value is not True:
            continue
        if pattern == name or pattern.startswith(name + ":"):
            return True
        try:
            if re.match(pattern, name):
                return True
        except re.error:
            continue
    return False


def find_lab_extension(name: str) -> dict | None:
    """The ``package.json`` of an installed (prebuilt) JupyterLab extension, or None."""
    from jupyter_core.paths import jupyter_path

    for folder in jupyter_path("labextensions"):
        meta = _read_json(Path(folder, *name.split("/"), "package.json"))
        if meta.get("name") == name:
            return meta
    return None


def widgets_problems() -> list[str]:
    """The JupyterLab widgets extension is installed and enabled, and the kernel has
    ipywidgets (without both, sliders show as text such as ``IntSlider(value=94)``)."""
    problems = []
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        problems.append(f"ipywidgets is not importable in this kernel: {INSTALL_HINT}")
    try:
        meta = find_lab_extension(WIDGETS_EXTENSION)
    except ImportError:
        return [*problems, f"JupyterLab is not installed in this environment: {INSTALL_HINT}"]
    if meta is None:
        problems.append(f"the JupyterLab widgets extension ({WIDGETS_EXTENSION}, from the "
                        f"jupyterlab_widgets package) is not installed: {INSTALL_HINT}")
    elif _is_disabled(WIDGETS_EXTENSION, _disabled_lab_extensions()):
        problems.append(f"the JupyterLab widgets extension is disabled, so sliders will not "
                        f"show: run `jupyter labextension enable {WIDGETS_EXTENSION}` and "
                        f"reload JupyterLab")
    return problems


def widgets_version() -> str:
    meta = find_lab_extension(WIDGETS_EXTENSION) or {}
    return meta.get("version", "?")


# ----------------------------------------------------------------------------- programs
def openslide_problems() -> list[str]:
    try:
        import openslide
        openslide.__library_version__  # noqa: B018  (loading the C library is the test)
    except Exception as exc:  # ImportError, OSError from ctypes, ...
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [f"OpenSlide's C library cannot be loaded ({first_line}): {INSTALL_HINT} "
                f"(openslide-bin ships the library; with conda use environment_pathology.yml)"]
    return []


def openslide_version() -> str:
    import openslide
    return openslide.__library_version__


def dcm2niix_version() -> str:
    """Run ``dcm2niix -v`` and return its version (it exits with status 3 after
    printing it, so the output is what counts)."""
    import dcm2niix

    done = dcm2niix.main(["-v"], capture_output=True, text=True, timeout=60)
    found = re.search(r"v\d+\.\d+\.\d+", done.stdout or "")
    if not found:
        raise RuntimeError(f"`dcm2niix -v` printed no version (exit status {done.returncode})")
    return found.group(0)


def dcm2niix_problems() -> list[str]:
    try:
        dcm2niix_version()
    except Exception as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [f"dcm2niix does not run ({first_line}): {INSTALL_HINT} (the dcm2niix "
                f"package ships the program)"]
    return []


# ----------------------------------------------------------------------------- machine
def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.1f} GiB"


def resources_problems() -> list[str]:
    """Free disk where the course lives and memory available now."""
    import psutil

    problems = []
    free = psutil.disk_usage(str(REPO_ROOT)).free
    if free < MIN_DISK_GIB * 2**30:
        problems.append(f"only {_gib(free)} free on the disk holding the course; it needs "
                        f"{MIN_DISK_GIB:.0f} GiB (data and notebooks/output): free some space")
    available = psutil.virtual_memory().available
    if available < MIN_MEMORY_GIB * 2**30:
        problems.append(f"only {_gib(available)} of memory available; the notebooks need "
                        f"{MIN_MEMORY_GIB:.0f} GiB (one notebook up to 1 GiB, plus JupyterLab "
                        f"and the browser): close other programs or shut down other kernels")
    return problems


def output_problems() -> list[str]:
    """Notebooks write into notebooks/output/: create it and write a file there."""
    try:
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=OUTPUT_DIR, prefix=".write-test-") as fh:
            fh.write(b"ok")
            fh.flush()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return [f"cannot write to notebooks/output/ ({reason}): run the course from a "
                f"folder you own (for example a copy in your home folder) or fix the "
                f"folder's permissions"]
    return []


# ----------------------------------------------------------------------------- report
@dataclass
class Check:
    label: str                       # what is checked, shown when it passes
    problems: Callable[[], list]     # one string per problem, each with its fix
    detail: Callable[[], str] = field(default=lambda: "")


CHECKS = [
    Check("Python 3.11 and every pinned package", environment_problems),
    Check("lesson data built and verified", data_problems),
    Check("JupyterLab widgets extension enabled", widgets_problems,
          lambda: f"({WIDGETS_EXTENSION} {widgets_version()})"),
    Check("OpenSlide C library loads", openslide_problems, lambda: f"({openslide_version()})"),
    Check("dcm2niix runs", dcm2niix_problems, lambda: f"({dcm2niix_version()})"),
    Check(f"free disk ≥ {MIN_DISK_GIB:.0f} GiB and available memory ≥ {MIN_MEMORY_GIB:.0f} GiB",
          resources_problems),
    Check("notebooks/output/ is writable", output_problems),
]


def run_checks() -> list[tuple[Check, list[str]]]:
    """Every check with its problems; a check that crashes is itself a problem."""
    results = []
    for check in CHECKS:
        try:
            problems = list(check.problems())
        except Exception as exc:
            problems = [f"the check itself failed ({type(exc).__name__}: {exc}): {INSTALL_HINT}"]
        results.append((check, problems))
    return results


def _colour(text: str, code: str, stream) -> str:
    wanted = ("NO_COLOR" not in os.environ
              and (getattr(stream, "isatty", lambda: False)() or "ipykernel" in sys.modules))
    return f"\x1b[{code}m{text}\x1b[0m" if wanted else text


def report(stream=None) -> bool:
    """Print one line per check (``ok`` or ``PROBLEM`` with its fix) and a summary;
    return True when the machine is ready."""
    stream = stream or sys.stdout
    results = run_checks()
    print("Readiness check (the same as `make check`)", file=stream)
    n_problems = 0
    for check, problems in results:
        if not problems:
            try:
                detail = check.detail()
            except Exception:
                detail = ""
            print(f"  ok       {check.label} {detail}".rstrip(), file=stream)
        for problem in problems:
            n_problems += 1
            print(_colour(f"  PROBLEM  {problem}", "31", stream), file=stream)
    if n_problems:
        print(_colour(f"NOT READY: {n_problems} problem(s); each line above says what to do, "
                      f"then run `make check` again.", "1;31", stream), file=stream)
    else:
        print(_colour(f"READY: all {len(results)} checks passed.", "1;32", stream), file=stream)
    stream.flush()
    return n_problems == 0


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m medimg.checks",
        description="Check that this machine is ready for the course: Python and pinned "
                    "packages, the lesson data, the JupyterLab widgets extension, OpenSlide, "
                    "dcm2niix, free disk and memory, and write access to notebooks/output/. "
                    "Exit status 1 if anything needs fixing.")
    parser.parse_args(argv)
    return 0 if report() else 1


if __name__ == "__main__":
    sys.exit(main())
