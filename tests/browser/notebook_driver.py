"""Drive one notebook in JupyterLab through Playwright: open, Run All, inspect, slide.

The page's JupyterLab application object is exposed (``--LabApp.expose_app_in_browser``)
so the state of cells and kernel is read from JupyterLab's own models; what the learner
does — Run All from the Run menu, arrow keys on a slider — is done with the mouse and
keyboard.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

OPEN_TIMEOUT = 120       # s: page load, kernel start
RUN_TIMEOUT = 420        # s: Run All for one notebook (the budget is 30 s; CI is slower)
SLIDER_TIMEOUT = 60      # s: the kernel redraws after a slider moved
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
TIMINGS: dict = {}  # notebook -> seconds for open + Run All, reported at the end

STATE_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells;
  const state = {status: panel.sessionContext.kernelDisplayStatus, code: 0, done: 0,
                 errors: [], widgetCells: [], text: ''};
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code' || !cell.sharedModel.getSource().trim()) continue;
    state.code += 1;
    if (cell.executionCount !== null) state.done += 1;
    const tags = cell.getMetadata('tags') || [];
    for (let j = 0; j < cell.outputs.length; j++) {
      const out = cell.outputs.get(j).toJSON();
      if (out.output_type === 'error' && !tags.includes('raises-exception'))
        state.errors.push({cell: i, ename: out.ename, evalue: out.evalue});
      if (out.data && out.data['%s'] !== undefined)
        state.widgetCells.push(i);
      if (out.output_type === 'stream') state.text += [].concat(out.text).join('');
    }
  }
  return state;
}""" % WIDGET_MIME

# For every cell with a widget output: did a live widget view render?
WIDGET_DOM_JS = """(indices) => {
  const panel = window.jupyterapp.shell.currentWidget;
  return indices.map(i => {
    const node = panel.content.widgets[i].node;
    const area = node.querySelector('.jp-Cell-outputArea');
    const text = Array.from(area.querySelectorAll('.jp-OutputArea-output'))
                      .map(o => o.innerText).join(' ').trim();
    return {cell: i,
            views: area.querySelectorAll('.jp-OutputArea-output .jupyter-widgets').length,
            failed: /Error displaying widget|Loading widget/.test(text),
            shown: area.querySelector('.jp-OutputArea-output img') && !text
                   ? 'a static picture' : JSON.stringify(text.slice(0, 200))};
  });
}"""

# Every slider with its readout and the image drawn beside it (same widget box).
SLIDERS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const sliders = panel.content.node.querySelectorAll('.widget-slider');
  return Array.from(sliders).map((slider, k) => {
    let box = slider.parentElement, img = null;
    while (box && box !== panel.content.node && !img) {
      img = box.querySelector('.widget-output img, .jp-OutputArea-output img');
      if (!img) box = box.parentElement;
    }
    const readout = slider.querySelector('.widget-readout');
    const cell = slider.closest('.jp-Cell');
    return {k,
            cell: Array.from(panel.content.node.querySelectorAll('.jp-Cell')).indexOf(cell),
            label: (slider.querySelector('.widget-label') || {}).innerText || '',
            value: readout ? readout.innerText.trim() : null,
            image: img ? img.src : null};
  });
}"""


SCROLL_JS = """(first) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cell = panel.content.widgets[first.length ? first[0] : 0];
  cell.node.scrollIntoView({block: 'start'});
}"""


@dataclass
class NotebookResult:
    name: str
    seconds: float = 0.0
    problems: list = field(default_factory=list)
    widgets: int = 0
    text: str = ""  # every stream output (stdout, stderr) of the run
    sliders: list = field(default_factory=list)  # (label, before, after, image changed)


def wait_for(page, check, timeout: float, what: str, every: float = 0.5):
    """Poll ``check()`` until it returns something truthy; fail clearly after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        page.wait_for_timeout(every * 1000)


def open_notebook(page, server, name: str) -> None:
    # "reset": a blank workspace, or JupyterLab reopens (and starts kernels for) the
    # notebooks of earlier tests.
    page.goto(server.url(f"lab/tree/{name}") + "&reset", timeout=OPEN_TIMEOUT * 1000)
    page.wait_for_function(
        """(name) => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                       return w && w.context && w.context.path === name && w.sessionContext
                              && w.sessionContext.session && w.sessionContext.session.kernel
                              && w.sessionContext.kernelDisplayStatus === 'idle'; }""",
        arg=name, timeout=OPEN_TIMEOUT * 1000)


def click_menu(page, menu: str, item: str) -> None:
    page.locator("#jp-menu-panel, .lm-MenuBar").get_by_text(menu, exact=True).first.click()
    page.locator(".lm-Menu-content").get_by_text(item, exact=True).first.click()


def run_all(page) -> dict:
    """Clear the stored outputs (Edit menu), then Run All Cells (Run menu); wait until
    every code cell ran and the kernel is idle, or an error stopped the run."""
    click_menu(page, "Edit", "Clear Outputs of All Cells")
    page.wait_for_function(
        "() => { const c = window.jupyterapp.shell.currentWidget.content.model.cells;"
        " for (let i = 0; i < c.length; i++) { const x = c.get(i);"
        "   if (x.type === 'code' && (x.outputs.length || x.executionCount !== null)) return false; }"
        " return true; }", timeout=30_000)
    click_menu(page, "Run", "Run All Cells")
    idle_since = [None]

    def finished():
        state = page.evaluate(STATE_JS)
        if state["status"] != "idle":
            idle_since[0] = None
            return None
        idle_since[0] = idle_since[0] or time.monotonic()
        if state["done"] == state["code"]:
            return state
        # Run All stops at an error: idle, errors shown, nothing running for a while.
        if state["errors"] and time.monotonic() - idle_since[0] > 3:
            return state
        return None

    return wait_for(page, finished, RUN_TIMEOUT, "Run All to finish (kernel idle, every code "
                    "cell executed)")


def move_slider(page, k: int, before: dict) -> dict:
    """Focus slider ``k``'s handle and press an arrow key; wait for a new readout and a
    new image; return the slider's state afterwards."""
    slider = page.locator(".jp-Notebook .widget-slider").nth(k)
    slider.scroll_into_view_if_needed()
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
    page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")

    def changed():
        now = page.evaluate(SLIDERS_JS)[k]
        if now["value"] != before["value"] and (before["image"] is None
                                                or now["image"] != before["image"]):
            return now
        return None

    try:
        return wait_for(page, changed, SLIDER_TIMEOUT, f"slider {before['label']!r} to move "
                        f"and its image to be redrawn")
    except TimeoutError:
        return page.evaluate(SLIDERS_JS)[k]


def check_notebook(page, server, name: str, shot_path=None) -> NotebookResult:
    """Open ``name``, Run All, and collect every problem a learner would see."""
    result = NotebookResult(name)
    start = time.monotonic()
    open_notebook(page, server, name)
    state = run_all(page)
    result.seconds = time.monotonic() - start
    result.text = state["text"]
    for err in state["errors"]:
        result.problems.append(f"cell {err['cell']}: {err['ename']}: {err['evalue'][:200]}")
    if state["done"] != state["code"] and not state["errors"]:
        result.problems.append(f"only {state['done']} of {state['code']} code cells ran")
    # Widgets: each widget output must be a live view, not its text/PNG fallback.
    views = page.evaluate(WIDGET_DOM_JS, state["widgetCells"])
    result.widgets = len(views)
    for view in views:
        if view["views"] == 0 or view["failed"]:
            result.problems.append(f"cell {view['cell']}: the widget did not render "
                                   f"(shown instead: {view['shown']})")
    # Sliders: keyboard, then the value and the image must change.
    for before in page.evaluate(SLIDERS_JS):
        if before["image"] is None:
            result.problems.append(f"cell {before['cell']}: slider {before['label']!r} has no "
                                   f"image beside it")
        after = move_slider(page, before["k"], before)
        image_changed = before["image"] is not None and after["image"] != before["image"]
        result.sliders.append((before["label"], before["value"], after["value"], image_changed))
        if after["value"] == before["value"]:
            result.problems.append(f"cell {before['cell']}: slider {before['label']!r} did not "
                                   f"move with the arrow key (value {before['value']})")
        elif before["image"] is not None and not image_changed:
            result.problems.append(f"cell {before['cell']}: slider {before['label']!r} moved "
                                   f"({before['value']} → {after['value']}) but its image "
                                   f"did not change")
    if shot_path is not None:  # the first widget (or the top) in view
        page.evaluate(SCROLL_JS, state["widgetCells"][:1])
        page.wait_for_timeout(300)
        page.screenshot(path=str(shot_path))
    return result
