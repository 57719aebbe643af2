"""Every notebook, in JupyterLab, in a real (headless) Chromium: Run All without errors,
every widget rendered, every slider moved with the keyboard changes its value and its
image. A screenshot per notebook goes to tests/browser/shots/.

The negative control disables the widgets extension in a second server's private
config and checks that the same test then fails.
"""

from __future__ import annotations

import json

import pytest
from labserver import NOTEBOOKS, LabServer
from notebook_driver import TIMINGS, WIDGET_MIME, check_notebook

# Found when the tests are collected: notebooks added later are tested too.
NOTEBOOK_PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))


def stored_widget_outputs(path) -> int:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(WIDGET_MIME in out.get("data", {}) for cell in nb["cells"]
               for out in cell.get("outputs", []))


def test_there_are_notebooks_to_test():
    assert NOTEBOOK_PATHS, f"no notebooks in {NOTEBOOKS}"


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=[p.stem for p in NOTEBOOK_PATHS])
def test_run_all_widgets_and_sliders(path, lab, page, shots):
    served = lab.root / path.name  # the copy taken when the server started
    if not served.exists():
        pytest.skip(f"{path.name} was removed before the JupyterLab server started")
    try:
        result = check_notebook(page, lab, path.name, shot_path=shots / f"{path.stem}.png")
    finally:
        page.context.close()  # first the page, or JupyterLab may start a new kernel
        left = lab.shutdown_kernels()  # a fresh kernel for the next notebook
    TIMINGS[path.name] = result.seconds
    assert not result.problems, (f"{path.name} in JupyterLab ({result.seconds:.0f} s):\n  "
                                 + "\n  ".join(result.problems))
    assert not left, f"kernels still running after {path.name} was closed: {left}"
    # Every widget the committed notebook shows must have been rendered live again.
    assert result.widgets >= stored_widget_outputs(served), (
        f"{path.name}: {result.widgets} live widget(s), the stored notebook has "
        f"{stored_widget_outputs(served)}")
    for label, before, after, image_changed in result.sliders:
        assert before != after and image_changed, (label, before, after, image_changed)


def test_negative_control_fails_without_the_widgets_extension(tmp_path, page, chromium_path):
    """Same check, widgets extension disabled (in a private config, as `jupyter
    labextension disable` would do it): the viewer must be reported as not rendered."""
    with_widgets = [p for p in NOTEBOOK_PATHS if p.exists() and stored_widget_outputs(p)]
    if not with_widgets:
        pytest.fail("no notebook shows a widget: the negative control has nothing to test")
    path = with_widgets[0]
    server = LabServer(tmp_path, [path], widgets=False)
    try:
        server.start()
        result = check_notebook(page, server, path.name)
    finally:
        page.context.close()
        server.stop()
    not_rendered = [p for p in result.problems if "the widget did not render" in p]
    assert not_rendered, f"{path.name} passed with the widgets extension disabled: {result}"
    assert result.sliders == [], "a slider was found although widgets cannot render"
    # The readiness check, run in that server's kernel, names the cause and the fix.
    if "checks.report()" in path.read_text(encoding="utf-8"):
        assert "widgets extension is disabled" in result.text, result.text[:2000]


def test_private_server_folder_copies_notebooks_and_keeps_config_private(tmp_path):
    """No Chromium needed: the server serves copies (JupyterLab can never save into the
    repository), finds the rest of the course through links, and keeps every Jupyter
    setting in the temporary folder."""
    server = LabServer(tmp_path, NOTEBOOK_PATHS[:1], widgets=False)
    copy = server.root / NOTEBOOK_PATHS[0].name
    assert copy.is_file() and not copy.is_symlink()
    assert copy.read_bytes() == NOTEBOOK_PATHS[0].read_bytes()
    assert (server.root.parent / "tests").resolve() == NOTEBOOKS.parent / "tests"
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        assert server.env[name].startswith(str(tmp_path)), name
    page_config = json.loads((tmp_path / "jupyter" / "config" / "labconfig" /
                              "page_config.json").read_text())
    assert page_config["disabledExtensions"] == {"@jupyter-widgets/jupyterlab-manager": True}
    assert server.token and len(server.token) >= 32
