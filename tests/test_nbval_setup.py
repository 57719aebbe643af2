"""The nbval run is strict where it must be and tolerant only of truly volatile text."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]
SANITIZE = ROOT / "tests/nbval_sanitize.cfg"
STRICT = "always::DeprecationWarning,always::FutureWarning,always::PendingDeprecationWarning"


def nbval(tmp_path, source, stored_outputs):
    """Run pytest --nbval (as `make test` does) on a one-cell notebook."""
    cell = new_code_cell(source, execution_count=1, outputs=stored_outputs)
    nb = new_notebook(cells=[cell], metadata={"kernelspec": {
        "name": "python3", "language": "python", "display_name": "Python 3"}})
    path = tmp_path / "probe.ipynb"
    nbformat.write(nb, path)
    env = dict(os.environ, PYTHONWARNINGS=STRICT)
    return subprocess.run([sys.executable, "-m", "pytest", "--nbval", str(path),
                           "--nbval-sanitize-with", str(SANITIZE), "-p", "no:cacheprovider",
                           "-q", "--rootdir", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=tmp_path)


def test_a_deprecation_inside_a_library_fails_the_notebook(tmp_path):
    library_call = ("exec(compile(\"import warnings; warnings.warn('old API', "
                    "DeprecationWarning)\", 'somelib.py', 'exec'), {'__name__': 'somelib'})")
    result = nbval(tmp_path, library_call, [])
    assert result.returncode == 1, result.stdout
    assert "DeprecationWarning" in result.stdout


def test_changed_numbers_fail_the_notebook(tmp_path):
    stored = [new_output("stream", name="stdout", text="mean error 0.31 mm\n")]
    result = nbval(tmp_path, "print('mean error 0.32 mm')", stored)
    assert result.returncode == 1, result.stdout


def test_memory_addresses_are_sanitised(tmp_path):
    stored = [new_output("stream", name="stdout", text="<object at 0x7f00deadbeef>\n")]
    result = nbval(tmp_path, "print(f'<object at {hex(id(object()))}>')", stored)
    assert result.returncode == 0, result.stdout
