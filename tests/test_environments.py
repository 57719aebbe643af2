"""pip and conda users get the same versions: requirements*.txt and environment*.yml agree."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PATHOLOGY_ONLY = {"openslide-python", "openslide-bin"}
# Packages for the pathology episode that the lean pathology environment must have.
PATHOLOGY_NEEDS = {"numpy", "matplotlib", "scikit-image", "tifffile", "imagecodecs",
                   "openslide-python", "openslide-bin", "dask", "distributed", "jupyterlab",
                   "ipywidgets", "pytest", "nbval"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> dict:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        assert match, f"{path.name}: '{line}' is not an exact pin (name==version)"
        pins[norm(match[1])] = match[2]
    return pins


def read_conda(path: Path) -> tuple[dict, str]:
    doc = yaml.safe_load(path.read_text())
    assert doc["channels"][0] == "conda-forge"
    pins, python = {}, None
    for dep in doc["dependencies"]:
        if isinstance(dep, dict):
            for line in dep["pip"]:
                name, version = line.split("==")
                pins[norm(name)] = version
        elif dep == "pip":
            continue
        else:
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*==?\s*([^\s]+)", dep)
            assert match, f"{path.name}: '{dep}' is not pinned to one version"
            if match[1] == "python":
                python = match[2]
            else:
                pins[norm(match[1])] = match[2]
    return pins, python


LOCK = read_pins(ROOT / "requirements.txt")
DIRECT = read_pins(ROOT / "requirements.in")
NODEPS = read_pins(ROOT / "requirements-nodeps.txt")  # data-only, installed with --no-deps


def test_data_only_packages_are_installed_without_dependencies():
    """Every install route installs requirements-nodeps.txt with --no-deps."""
    make = (ROOT / "Makefile").read_text()
    assert "--no-deps -r requirements-nodeps.txt" in make
    for env_file in ("environment.yml",):
        assert "pip install --no-deps -r requirements-nodeps.txt" in (ROOT / env_file).read_text()
    assert not set(NODEPS) & set(LOCK), "a data-only package is also in the full lock"


def test_every_direct_pin_is_in_the_lock():
    for name, version in DIRECT.items():
        assert LOCK.get(name) == version, f"{name}: requirements.in {version}, lock {LOCK.get(name)}"


@pytest.mark.parametrize("env_file", ["environment.yml", "environment_pathology.yml"])
def test_conda_pins_match_pip(env_file):
    pins, python = read_conda(ROOT / env_file)
    assert python == "3.11"
    for name, version in pins.items():
        assert name in LOCK, f"{env_file}: {name} is not in requirements.txt"
        assert LOCK[name] == version, f"{env_file}: {name}={version} but pip has {LOCK[name]}"


def test_main_environment_has_every_direct_dependency():
    pins, _ = read_conda(ROOT / "environment.yml")
    missing = set(DIRECT) - PATHOLOGY_ONLY - set(pins)
    assert not missing, f"environment.yml lacks {sorted(missing)}"


def test_pathology_environment_has_what_episode_05_needs():
    pins, _ = read_conda(ROOT / "environment_pathology.yml")
    assert not PATHOLOGY_NEEDS - set(pins), sorted(PATHOLOGY_NEEDS - set(pins))


def test_installed_versions_are_the_pinned_ones():
    """The environment running the tests is the pinned one (no silent drift)."""
    from importlib.metadata import PackageNotFoundError, version

    for name, pinned in {**DIRECT, **NODEPS}.items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            pytest.fail(f"{name} is pinned but not installed: pip install -r requirements.txt")
        assert installed == pinned, f"{name}: installed {installed}, pinned {pinned}"
