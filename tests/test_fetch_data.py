"""fetch_data.py: builds offline, verifies, is idempotent, atomic and clear about problems."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import fetch_data
from medimg import sources

ROOT = Path(__file__).resolve().parents[1]
COPIED = [ds for ds in fetch_data.DATASETS if isinstance(ds.source, fetch_data.Copy)]
SMALL = ["ct_small", "shepp_logan", "nm_jpeg", "mri_formats"]  # quick to copy


def run(args, data_dir, check=False):
    """Run fetch_data.py as a learner would, with data going to ``data_dir``."""
    env = dict(os.environ, MEDIMG_DATA=str(data_dir))
    return subprocess.run([sys.executable, str(ROOT / "fetch_data.py"), *args], env=env,
                          capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every dataset built once from nothing into a temporary data folder."""
    data_dir = tmp_path_factory.mktemp("data")
    result = run([], data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    return data_dir, result


def test_table_is_well_formed():
    names = [ds.name for ds in fetch_data.DATASETS]
    assert len(names) == len(set(names)), "dataset names must be unique"
    paths = [ds.path for ds in fetch_data.DATASETS]
    assert len(paths) == len(set(paths)), "two datasets write the same path"
    for ds in fetch_data.DATASETS:
        assert ds.credit and ds.episodes, ds.name
        assert not Path(ds.path).is_absolute() and ".." not in Path(ds.path).parts
        if isinstance(ds.source, fetch_data.Copy):
            for digest in ds.source.files.values():
                assert len(digest) == 64 and int(digest, 16) >= 0
            assert ds.is_dir == (len(ds.source.files) > 1), ds.name


def test_build_from_nothing(built):
    data_dir, result = built
    manifest = json.loads((data_dir / "manifest.json").read_text())["datasets"]
    assert set(manifest) == {ds.name for ds in fetch_data.DATASETS}
    for ds in fetch_data.DATASETS:
        assert (data_dir / ds.path).exists(), ds.name
        assert manifest[ds.name]["path"] == ds.path
        assert manifest[ds.name]["sha256"] == fetch_data.sha256_tree(data_dir / ds.path)
    # progress: one line per dataset, then a summary
    # (long builds print heartbeat dots between "building ..." and "done")
    assert len(re.findall(r"building \.\.\. \.*done", result.stdout)) == len(fetch_data.DATASETS)
    assert f"{len(fetch_data.DATASETS)}/{len(fetch_data.DATASETS)} datasets valid" in result.stdout
    assert not list(data_dir.rglob(fetch_data.TMP_PREFIX + "*")), "temporary files left behind"
    assert (data_dir / "README.md").read_text() == fetch_data.readme_text()


def test_copies_are_byte_identical_to_the_package_files(built):
    data_dir, _ = built
    for ds in COPIED:
        for rel, digest in ds.source.files.items():
            dest = data_dir / ds.path / Path(rel).name if ds.is_dir else data_dir / ds.path
            assert fetch_data.sha256_file(dest) == digest
            assert dest.read_bytes() == sources.package_file(ds.source.module, rel).read_bytes()


def test_check_passes_after_build_and_second_run_skips_everything(built):
    data_dir, _ = built
    check = run(["--check"], data_dir)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("ok ") == len(fetch_data.DATASETS)
    stamps = {p: p.stat().st_mtime_ns for p in data_dir.rglob("*") if p.is_file()
              and p.name not in ("manifest.json", "README.md")}
    again = run([], data_dir)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("valid, skipped") == len(fetch_data.DATASETS)
    assert "building" not in again.stdout
    assert stamps == {p: p.stat().st_mtime_ns for p in stamps}, "a valid file was rewritten"


def test_truncated_copied_file_is_detected_and_rebuilt(tmp_path):
    assert run(["--only", *SMALL], tmp_path).returncode == 0
    target = tmp_path / "ct/CT_small.dcm"
    good = target.read_bytes()
    target.write_bytes(good[: len(good) // 2])
    check = run(["--check", "--only", *SMALL], tmp_path)
    assert check.returncode == 1
    assert "PROBLEM  ct_small:" in check.stdout and "damaged" in check.stdout
    assert "run `python fetch_data.py`" in check.stderr
    assert "Traceback" not in check.stdout + check.stderr
    fixed = run(["--only", *SMALL], tmp_path)
    assert fixed.returncode == 0 and "ct_small               building" in fixed.stdout
    assert target.read_bytes() == good


def test_missing_and_extra_files_in_a_folder_dataset(tmp_path):
    assert run(["--only", "mri_formats"], tmp_path).returncode == 0
    (tmp_path / "mri/formats/test.mgz").unlink()
    check = run(["--check", "--only", "mri_formats"], tmp_path)
    assert check.returncode == 1 and "missing file" in check.stdout
    assert run(["--only", "mri_formats"], tmp_path).returncode == 0
    (tmp_path / "mri/formats/stray.txt").write_text("not ours")
    check = run(["--check", "--only", "mri_formats"], tmp_path)
    assert check.returncode == 1 and "unexpected files" in check.stdout


def test_check_on_empty_folder_fails_for_every_dataset(tmp_path):
    check = run(["--check"], tmp_path)
    assert check.returncode == 1
    assert check.stdout.count("PROBLEM") == len(fetch_data.DATASETS)
    assert not any(tmp_path.iterdir()), "--check must not write"


def test_generated_dataset_changed_after_build_is_detected(built, tmp_path):
    data_dir, _ = built
    name = "ct_like_transform"
    ds = next(d for d in fetch_data.DATASETS if d.name == name)
    (tmp_path / "registration").mkdir()
    (tmp_path / ds.path).write_bytes((data_dir / ds.path).read_bytes())
    (tmp_path / "manifest.json").write_text((data_dir / "manifest.json").read_text())
    assert run(["--check", "--only", name], tmp_path).returncode == 0
    with open(tmp_path / ds.path, "a") as fh:
        fh.write("\n")  # still a readable transform file, but not the one that was built
    check = run(["--check", "--only", name], tmp_path)
    assert check.returncode == 1 and "changed since it was built" in check.stdout


def test_truncated_generated_file_is_detected_even_without_the_manifest(built, tmp_path):
    data_dir, _ = built
    name = "ct_like_head"
    ds = next(d for d in fetch_data.DATASETS if d.name == name)
    (tmp_path / "registration").mkdir()
    whole = (data_dir / ds.path).read_bytes()
    (tmp_path / ds.path).write_bytes(whole[: len(whole) // 3])
    check = run(["--check", "--only", name], tmp_path)  # no manifest: the verifier decides
    assert check.returncode == 1
    assert "PROBLEM  ct_like_head: failed verification" in check.stdout
    assert "Traceback" not in check.stdout + check.stderr


def test_force_rebuilds_everything_selected(tmp_path):
    assert run(["--only", "ct_small"], tmp_path).returncode == 0
    forced = run(["--force", "--only", "ct_small"], tmp_path)
    assert forced.returncode == 0 and "building ... done" in forced.stdout


def test_interrupted_build_leaves_no_complete_looking_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEDIMG_DATA", str(tmp_path))
    real_build = fetch_data.build_into

    def half_then_crash(ds, target):
        real_build(ds, target)
        with open(target, "r+b") as fh:
            fh.truncate(100)
        raise KeyboardInterrupt  # as if the learner pressed Ctrl-C mid-write

    monkeypatch.setattr(fetch_data, "build_into", half_then_crash)
    with pytest.raises(KeyboardInterrupt):
        fetch_data.main(["--only", "ct_small"])
    assert not (tmp_path / "ct/CT_small.dcm").exists()
    # the next run cleans the leftovers and builds the real file
    monkeypatch.setattr(fetch_data, "build_into", real_build)
    assert fetch_data.main(["--only", "ct_small"]) == 0
    assert not list(tmp_path.rglob(fetch_data.TMP_PREFIX + "*"))
    assert fetch_data.main(["--check", "--only", "ct_small"]) == 0


def test_a_build_that_fails_verification_never_replaces_a_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEDIMG_DATA", str(tmp_path))
    assert fetch_data.main(["--only", "ct_small"]) == 0
    good = (tmp_path / "ct/CT_small.dcm").read_bytes()

    def wrong_build(ds, target):
        target.write_bytes(b"DICM but not really")

    monkeypatch.setattr(fetch_data, "build_into", wrong_build)
    assert fetch_data.main(["--force", "--only", "ct_small"]) == 1
    err = capsys.readouterr().err
    assert "ct_small" in err and "damaged" in err
    assert (tmp_path / "ct/CT_small.dcm").read_bytes() == good


def test_missing_package_gives_the_pip_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEDIMG_DATA", str(tmp_path))
    real_find_spec = sources.importlib.util.find_spec
    monkeypatch.setattr(sources.importlib.util, "find_spec",
                        lambda name: None if name == "data_store" else real_find_spec(name))
    assert fetch_data.main(["--only", "ct_head", "ct_small"]) == 1
    captured = capsys.readouterr()
    assert "ct_head: package 'pydicom-data' is not installed" in captured.err
    assert "pip install" in captured.err and "Traceback" not in captured.err
    assert (tmp_path / "ct/CT_small.dcm").exists(), "other datasets still build"


def test_error_messages_are_one_clear_line():
    lines = [
        fetch_data.explain(PermissionError(errno.EACCES, "denied", "/data/x")),
        fetch_data.explain(OSError(errno.ENOSPC, "No space left on device")),
        fetch_data.explain(ModuleNotFoundError("No module named 'SimpleITK'", name="SimpleITK")),
        fetch_data.explain(ValueError("shape (1, 2) != (3, 4)")),
    ]
    assert "no permission to write /data/x" in lines[0]
    assert "disk is full" in lines[1]
    assert "'SimpleITK' is not installed" in lines[2] and "pip install" in lines[2]
    assert "failed verification: shape" in lines[3]
    assert all("\n" not in line for line in lines)


def test_unwritable_data_folder_is_reported(tmp_path):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    result = run(["--only", "ct_small"], blocker / "data")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and result.stderr.startswith("fetch_data.py:")


def test_list_shows_every_dataset_source_and_credit(tmp_path):
    listing = run(["--list"], tmp_path, check=True).stdout
    for ds in fetch_data.DATASETS:
        assert ds.name in listing and ds.credit in listing
    assert "not built" in listing


def test_unknown_dataset_name_is_a_clear_error(tmp_path):
    result = run(["--only", "no_such_data"], tmp_path)
    assert result.returncode != 0 and "unknown dataset(s) no_such_data" in result.stderr


def test_committed_data_readme_is_current():
    assert (ROOT / "data/README.md").read_text() == fetch_data.readme_text(), (
        "data/README.md is out of date: run `python fetch_data.py` and commit it")
