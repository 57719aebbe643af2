"""Plumbing for the real-browser tests: a private JupyterLab server and Chromium.

The server runs headless on 127.0.0.1 with a random free port and a random token, in
private Jupyter config/data/runtime folders (nothing global changes, nothing collides
with a Jupyter the user is running), serving *copies* of the notebooks from a temporary
stand-in of the course folder so that nothing is ever saved into the repository.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SHOTS = Path(__file__).resolve().parent / "shots"
WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"
# Debian's package; /usr/bin/chromium is a shell wrapper around the first one.
CHROMIUM_CANDIDATES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium",
                       "/usr/bin/chromium-browser")
SERVER_START_TIMEOUT = 120  # s; importing jupyter_server alone takes ~5 s on a busy machine


def find_chromium() -> str | None:
    override = os.environ.get("MEDIMG_CHROMIUM")
    for candidate in ([override] if override else []) + list(CHROMIUM_CANDIDATES):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_json(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")


class LabServer:
    """``jupyter lab`` in its own process group with private Jupyter folders.

    ``widgets=False`` disables the widgets extension in this server's private config
    (what ``jupyter labextension disable`` would write) — the negative control.
    """

    def __init__(self, workdir: Path, notebooks: list[Path], widgets: bool = True):
        self.workdir = workdir
        # A stand-in for the course folder: copies of the notebooks, and links to
        # everything else, so that kernels started in course/notebooks/ find files by
        # the same relative paths as in the checkout ("../tests/data/...") while
        # JupyterLab can only ever save the copies.
        course = workdir / "course"
        self.root = course / "notebooks"
        self.root.mkdir(parents=True)
        for entry in ROOT.iterdir():
            if entry.name not in ("notebooks", ".git"):
                (course / entry.name).symlink_to(entry)
        for entry in NOTEBOOKS.iterdir():
            if entry.suffix != ".ipynb" and entry.name != ".ipynb_checkpoints":
                (self.root / entry.name).symlink_to(entry)
        for path in notebooks:
            shutil.copy2(path, self.root / path.name)
        self.token = secrets.token_hex(24)
        self.port = None
        self.proc = None
        self.log_path = workdir / "jupyterlab.log"
        jupyter = workdir / "jupyter"
        config = jupyter / "config"
        # Our settings: nothing saved behind our back, every cell in the DOM.
        settings = config / "lab" / "user-settings" / "@jupyterlab"
        write_json(settings / "docmanager-extension" / "plugin.jupyterlab-settings",
                   {"autosave": False})
        write_json(settings / "notebook-extension" / "tracker.jupyterlab-settings",
                   {"windowingMode": "none"})
        write_json(settings / "apputils-extension" / "notification.jupyterlab-settings",
                   {"fetchNews": "false", "checkForUpdates": False})
        if not widgets:
            write_json(config / "labconfig" / "page_config.json",
                       {"disabledExtensions": {WIDGETS_EXTENSION: True}})
        self.env = dict(
            os.environ,
            JUPYTER_CONFIG_DIR=str(config),
            JUPYTER_DATA_DIR=str(jupyter / "data"),
            JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
            IPYTHONDIR=str(jupyter / "ipython"),
            OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        # The kernel must import the course's helper package from this checkout.
        self.env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}?token={self.token}"

    def api(self, method: str, path: str, timeout: float = 10) -> object:
        request = urllib.request.Request(
            f"{self.base_url}/api/{path}", method=method,
            headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def start(self) -> None:
        for _attempt in range(3):  # another process may grab the port in between
            self.port = free_port()
            cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser",
                   "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                   "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
                   f"--ServerApp.root_dir={self.root}", "--LabApp.expose_app_in_browser=True",
                   "--LabApp.news_url=", "--ServerApp.terminals_enabled=False"]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                cmd.append("--allow-root")
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(cmd, cwd=self.root, env=self.env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
            log.close()
            if self._wait_until_up():
                return
            self.stop()
        raise RuntimeError(f"JupyterLab did not start; its log:\n{self.log()}")

    def _wait_until_up(self) -> bool:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                self.api("GET", "status", timeout=2)
                return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        return False

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return "(no log)"

    def shutdown_kernels(self, timeout: float = 30) -> list:
        """A fresh kernel per notebook: shut down every session and kernel; return the
        kernels still running after ``timeout`` seconds (none, normally)."""
        deadline = time.monotonic() + timeout
        left = []
        while time.monotonic() < deadline:
            try:
                for session in self.api("GET", "sessions") or []:
                    self.api("DELETE", f"sessions/{session['id']}", timeout=timeout)
                for kernel in self.api("GET", "kernels") or []:
                    self.api("DELETE", f"kernels/{kernel['id']}", timeout=timeout)
                left = self.api("GET", "kernels") or []
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                left = [f"API error: {exc}"]
            if not left:
                return []
            time.sleep(0.5)
        return left

    def stop(self) -> None:
        """Shut kernels and server down; kill the process group if that fails."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.shutdown_kernels(timeout=10)
            try:
                self.api("POST", "shutdown", timeout=5)
                self.proc.wait(timeout=20)
            except (urllib.error.URLError, ConnectionError, TimeoutError,
                    subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(self.proc.pid, sig)
                    self.proc.wait(timeout=10)
                    break
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    continue
        self.proc = None
