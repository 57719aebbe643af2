"""The setup check names real problems; the benchmark measures a real notebook run."""

import json
import sys
from types import SimpleNamespace

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


def test_environment_check_reports_the_wrong_python(monkeypatch):
    monkeypatch.setattr(checks, "PYTHON", (3, 99))
    monkeypatch.setattr(checks, "pinned_versions", dict)
    [problem] = checks.environment_problems()
    assert "pinned for 3.99" in problem and "make lab" in problem


def test_data_check_without_any_data_is_one_line_naming_medimg_data(tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("MEDIMG_DATA", str(elsewhere))
    [problem] = checks.data_problems()
    assert problem.startswith(f"no lesson data in {elsewhere}")
    assert f"MEDIMG_DATA={elsewhere} python fetch_data.py" in problem
    assert "unset MEDIMG_DATA" in problem


def test_data_check_without_medimg_data_says_run_fetch_data(tmp_path, monkeypatch):
    monkeypatch.delenv("MEDIMG_DATA", raising=False)
    fetch_data = checks._fetch_data_module()
    monkeypatch.setattr(fetch_data, "HERE", tmp_path)  # an empty course folder: no data/
    [problem] = checks.data_problems()
    assert "no lesson data" in problem and "run `python fetch_data.py`" in problem
    assert "MEDIMG_DATA" not in problem


def test_data_check_names_each_missing_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIMG_DATA", str(tmp_path))
    (tmp_path / "manifest.json").write_text(json.dumps({"datasets": {}}))
    problems = checks.data_problems()
    fetch_data = checks._fetch_data_module()
    assert len(problems) == len(fetch_data.DATASETS)
    for problem, ds in zip(problems, fetch_data.DATASETS):
        assert problem.startswith(ds.name + ": missing"), problem
        assert "fetch_data.py" in problem


def test_widgets_check_finds_the_installed_extension():
    assert checks.widgets_problems() == []
    assert checks.widgets_version().startswith("5.")  # ipywidgets 8 pairs with manager 5


def test_widgets_check_reports_a_missing_extension(tmp_path, monkeypatch):
    import jupyter_core.paths

    monkeypatch.setattr(jupyter_core.paths, "jupyter_path", lambda *parts: [str(tmp_path)])
    [problem] = checks.widgets_problems()
    assert "widgets extension" in problem and "is not installed" in problem
    assert "pip install -r requirements.txt" in problem


@pytest.mark.parametrize("key", ["@jupyter-widgets/jupyterlab-manager",
                                 "@jupyter-widgets/jupyterlab-manager:plugin",
                                 "@jupyter-widgets/.*"])
def test_widgets_check_reports_a_disabled_extension(tmp_path, monkeypatch, key):
    """What `jupyter labextension disable` writes, in a private config folder."""
    (tmp_path / "labconfig").mkdir()
    (tmp_path / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {key: True}}))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path))
    [problem] = checks.widgets_problems()
    assert "is disabled" in problem
    assert "jupyter labextension enable @jupyter-widgets/jupyterlab-manager" in problem


def test_widgets_check_accepts_an_extension_enabled_again(tmp_path, monkeypatch):
    (tmp_path / "labconfig").mkdir()
    (tmp_path / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyter-widgets/jupyterlab-manager": False,
                                "some-other-extension": True}}))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path))
    assert checks.widgets_problems() == []


def test_widgets_check_reports_missing_ipywidgets(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import now raises ImportError
    [problem] = checks.widgets_problems()
    assert "ipywidgets is not importable" in problem


def test_openslide_check(monkeypatch):
    assert checks.openslide_problems() == []
    monkeypatch.setitem(sys.modules, "openslide", None)
    [problem] = checks.openslide_problems()
    assert problem.startswith("OpenSlide's C library cannot be loaded")
    assert "openslide-bin" in problem and "pip install -r requirements.txt" in problem


def test_dcm2niix_check(monkeypatch, tmp_path):
    import dcm2niix

    assert checks.dcm2niix_problems() == []
    assert checks.dcm2niix_version().startswith("v1.0.")
    monkeypatch.setattr(dcm2niix, "bin", str(tmp_path / "no-such-program"))
    [problem] = checks.dcm2niix_problems()
    assert problem.startswith("dcm2niix does not run") and "No such file" in problem
    silent = tmp_path / "silent"
    silent.write_text("#!/bin/sh\nexit 0\n")
    silent.chmod(0o755)
    monkeypatch.setattr(dcm2niix, "bin", str(silent))
    [problem] = checks.dcm2niix_problems()
    assert "printed no version" in problem


def test_resources_check_states_the_thresholds(monkeypatch):
    import psutil

    gib = 2**30
    monkeypatch.setattr(psutil, "disk_usage", lambda path: SimpleNamespace(free=0.5 * gib))
    monkeypatch.setattr(psutil, "virtual_memory", lambda: SimpleNamespace(available=1 * gib))
    disk, memory = checks.resources_problems()
    assert disk.startswith("only 0.5 GiB free") and "needs 2 GiB" in disk
    assert memory.startswith("only 1.0 GiB of memory available") and "need 2 GiB" in memory
    monkeypatch.setattr(psutil, "disk_usage", lambda path: SimpleNamespace(free=2 * gib))
    monkeypatch.setattr(psutil, "virtual_memory", lambda: SimpleNamespace(available=2 * gib))
    assert checks.resources_problems() == []


def test_output_check(tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "OUTPUT_DIR", tmp_path / "output")
    assert checks.output_problems() == []
    assert (tmp_path / "output").is_dir() and not list((tmp_path / "output").iterdir())
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(checks, "OUTPUT_DIR", blocker / "output")
    [problem] = checks.output_problems()
    assert problem.startswith("cannot write to notebooks/output/") and "folder you own" in problem


def fake_checks(*problem_lists):
    return [checks.Check(f"check {i}", lambda found=found: found)
            for i, found in enumerate(problem_lists)]


def test_main_prints_one_line_per_problem_and_exits_1(monkeypatch, capsys):
    def broken():
        raise RuntimeError("kaputt")

    monkeypatch.setattr(checks, "CHECKS", [*fake_checks([], ["a: do x", "b: do y"]),
                                           checks.Check("crashes", broken)])
    monkeypatch.setenv("NO_COLOR", "1")
    assert checks.main([]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "  ok       check 0" in lines
    assert "  PROBLEM  a: do x" in lines and "  PROBLEM  b: do y" in lines
    assert any("the check itself failed (RuntimeError: kaputt)" in line for line in lines)
    assert lines[-1].startswith("NOT READY: 3 problem(s)")


def test_main_prints_a_green_summary_when_ready(monkeypatch, capsys):
    monkeypatch.setattr(checks, "CHECKS", fake_checks([], []))
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert checks.main([]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == "\x1b[1;32mREADY: all 2 checks passed.\x1b[0m"


def test_the_real_checks_cover_every_condition_of_the_issue():
    labels = " | ".join(check.label for check in checks.CHECKS)
    for topic in ("Python", "pinned", "data", "widgets", "OpenSlide", "dcm2niix", "disk",
                  "memory", "notebooks/output"):
        assert topic in labels, topic


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


def test_introduction_setup_cell_reports_missing_data_instead_of_stopping(tmp_path,
                                                                          monkeypatch):
    """Run All in 00_introduction with MEDIMG_DATA pointing at an empty folder: the
    setup cell (the readiness check) must run to the end and name the problem."""
    from nbclient import NotebookClient

    from medimg.data import REPO_ROOT

    nb = nbformat.read(REPO_ROOT / "notebooks" / "00_introduction.ipynb", as_version=4)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    assert "checks.report()" in setup.source
    nb.cells = [setup]
    monkeypatch.setenv("MEDIMG_DATA", str(tmp_path / "elsewhere"))  # the kernel inherits it
    NotebookClient(nb, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(REPO_ROOT / "notebooks")}}).execute()
    text = "".join(out.get("text", "") for out in setup.outputs)
    assert not [out for out in setup.outputs if out.output_type == "error"], text
    assert f"PROBLEM  no lesson data in {tmp_path / 'elsewhere'}" in text
    assert f"MEDIMG_DATA={tmp_path / 'elsewhere'} python fetch_data.py" in text
    assert "NOT READY:" in text and "READY: all" not in text
