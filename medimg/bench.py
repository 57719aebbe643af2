"""``make bench``: time and memory of every notebook and of building the data.

Each notebook is executed top to bottom in a fresh kernel (as a learner's "Restart and
run all") from a separate process, which then reports the kernel's peak resident memory
(``getrusage(RUSAGE_CHILDREN)`` counts the reaped kernel). The data is built from nothing
into a temporary folder. Budgets for a 2-core laptop are checked at the end.

    python -m medimg.bench                     every notebook + data build
    python -m medimg.bench notebooks/02_mri.ipynb --no-data
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from medimg.data import REPO_ROOT

NOTEBOOK_SECONDS = 30.0
NOTEBOOK_MIB = 1024.0
DATA_SECONDS = 60.0


def execute_one(path: Path) -> dict:
    """Run one notebook in this process's kernel; return wall time and peak memory."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB
    return {"notebook": path.name, "seconds": seconds, "peak_mib": peak_kib / 1024}


# As in `make test` and `make lab`: one BLAS/OpenMP thread, so that a bare
# `python -m medimg.bench` measures what learners and CI run.
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def measure_notebook(path: Path) -> dict:
    env = {**os.environ, **THREAD_ENV}
    proc = subprocess.run([sys.executable, "-m", "medimg.bench", "--execute-one", str(path)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"notebook": path.name, "error": tail}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_data() -> dict:
    with tempfile.TemporaryDirectory(prefix="medimg-bench-data-") as tmp:
        env = dict(os.environ, MEDIMG_DATA=tmp, **THREAD_ENV)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(REPO_ROOT / "fetch_data.py")], env=env,
                              capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    return {"ok": proc.returncode == 0, "seconds": seconds, "mib": size / 2**20,
            "error": proc.stderr.strip()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the notebooks and the data build")
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--no-data", action="store_true", help="skip the data build timing")
    parser.add_argument("--execute-one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.execute_one:
        print(json.dumps(execute_one(args.execute_one.resolve())))
        return 0

    paths = args.notebooks or sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
    over = 0
    print(f"{'notebook':38} {'wall s':>7} {'peak MiB':>9}   budget ≤ {NOTEBOOK_SECONDS:.0f} s, "
          f"≤ {NOTEBOOK_MIB:.0f} MiB", flush=True)
    for path in paths:
        row = measure_notebook(Path(path).resolve())
        if "error" in row:
            over += 1
            print(f"{row['notebook']:38} FAILED: {row['error']}", flush=True)
            continue
        ok = row["seconds"] <= NOTEBOOK_SECONDS and row["peak_mib"] <= NOTEBOOK_MIB
        over += not ok
        print(f"{row['notebook']:38} {row['seconds']:7.1f} {row['peak_mib']:9.0f}   "
              f"{'ok' if ok else 'OVER BUDGET'}", flush=True)
    if not args.no_data:
        data = measure_data()
        ok = data["ok"] and data["seconds"] <= DATA_SECONDS
        over += not ok
        status = "ok" if ok else ("FAILED: " + data["error"] if not data["ok"] else "OVER BUDGET")
        print(f"{'fetch_data.py from nothing':38} {data['seconds']:7.1f} {'':9}   "
              f"budget ≤ {DATA_SECONDS:.0f} s: {status}; data size {data['mib']:.1f} MiB")
    print("all within budget" if not over else f"{over} item(s) over budget or failing")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
