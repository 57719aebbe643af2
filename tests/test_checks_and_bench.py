"""The setup check names real problems; the benchmark measures a real notebook run."""

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from medimg import bench, checks


def test_pins_are_read_from_requirements_in():
    pins = checks.pinned_versions()
    assert pins["SimpleITK"] == "2.5.7" and pins["nibabel"] == "5.4.2"
    assert all(version[0].isdigit() for version in pins.values())


def test_environment_check_reports_wrong_and_missing_versions(monkeypatch):
    monkeypatch.setattr(checks, "pinned_versions",
                        lambda: {"numpy": "0.0.1", "surely-not-installed-pkg": "1.0"})
    problems = checks.environment_problems()
    assert len(problems) == 2
    assert problems[0].startswith("numpy ") and "needs 0.0.1" in problems[0]
    assert "surely-not-installed-pkg is not installed" in problems[1]
    assert all("pip install -r requirements.txt" in p for p in problems)


def test_data_check_names_each_missing_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIMG_DATA", str(tmp_path))
    problems = checks.data_problems()
    fetch_data = checks._fetch_data_module()
    assert len(problems) == len(fetch_data.DATASETS)
    assert problems[0].startswith(fetch_data.DATASETS[0].name + ": missing")
    assert all(p.endswith("run `python fetch_data.py`") for p in problems)


def test_bench_measures_time_and_kernel_memory(tmp_path):
    nb = new_notebook(cells=[
        new_code_cell("import time, numpy as np\nblock = np.ones(64 * 2**20, np.uint8)\n"
                      "time.sleep(0.3)")],
        metadata={"kernelspec": {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}})
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    row = bench.measure_notebook(path)
    assert row["notebook"] == "tiny.ipynb", row
    assert row["seconds"] >= 0.3
    assert row["peak_mib"] >= 64  # the kernel really held the 64 MiB block


def test_bench_reports_a_failing_notebook(tmp_path, capsys):
    nb = new_notebook(cells=[new_code_cell("raise RuntimeError('boom')")],
                      metadata={"kernelspec": {"name": "python3", "language": "python",
                                               "display_name": "Python 3"}})
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    assert bench.main([str(path), "--no-data"]) == 1
    out = capsys.readouterr().out
    assert "broken.ipynb" in out and "FAILED" in out
