"""binder/ makes the repository run unchanged on BinderHub or a repo2docker JupyterHub."""

import stat
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def test_binder_pins_equal_the_lock():
    assert (BINDER / "requirements.txt").read_text() == (ROOT / "requirements.txt").read_text(), (
        "binder/requirements.txt differs from requirements.txt: "
        "run `cp requirements.txt binder/requirements.txt`")


def test_binder_python_is_the_pinned_one():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"


def test_post_build_installs_helper_and_data_only_packages_and_builds_the_data():
    script = BINDER / "postBuild"
    assert script.stat().st_mode & stat.S_IXUSR, "postBuild must be executable"
    lines = [line.strip() for line in script.read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert lines[0].startswith("set -e"), "postBuild must stop at the first failure"
    joined = "\n".join(lines)
    assert "--no-deps -r requirements-nodeps.txt" in joined
    assert "-e ." in joined
    assert "python fetch_data.py" in joined


@pytest.fixture
def picked_buildpack(monkeypatch):
    """The buildpack repo2docker itself picks for this repository (no Docker needed:
    detection and rendering read files only)."""
    with warnings.catch_warnings():
        # repo2docker 2026.4 imports python-json-logger's old module name; that is the
        # tool's business, not this course's.
        warnings.simplefilter("ignore", DeprecationWarning)
        from repo2docker.app import Repo2Docker

    monkeypatch.chdir(ROOT)
    app = Repo2Docker()
    for buildpack_class in app.buildpacks:
        buildpack = buildpack_class(base_image=app.base_image)
        if buildpack.detect():
            buildpack.platform = "linux/amd64"
            return buildpack
    pytest.fail("repo2docker found no configuration")


def test_repo2docker_picks_the_python_buildpack_from_binder(picked_buildpack):
    # binder/ hides the top-level environment.yml, which would otherwise pick conda.
    assert type(picked_buildpack).__name__ == "PythonBuildPack"
    assert picked_buildpack.binder_dir == "binder"
    assert picked_buildpack.python_version == "3.11"


def test_repo2docker_dockerfile_installs_the_lock_then_runs_post_build(picked_buildpack):
    dockerfile = picked_buildpack.render()
    install = dockerfile.index('pip install --no-cache-dir -r "binder/requirements.txt"')
    post_build = dockerfile.index("./binder/postBuild")
    assert install < post_build
    assert "environment.yml" not in dockerfile.replace("environment.lock", "")
