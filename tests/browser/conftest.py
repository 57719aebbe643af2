"""Fixtures for the real-browser tests: Chromium (Debian's, through Playwright) and a
private JupyterLab server, both shut down at the end even when a test fails."""

from __future__ import annotations

import pytest

from labserver import NOTEBOOKS, SHOTS, LabServer, find_chromium
from notebook_driver import TIMINGS

SKIP_MESSAGE = ("real-browser tests skipped: Chromium is not installed. Install Debian's "
                "package (`sudo apt-get install chromium`; `.ci/run` does it in CI) or set "
                "MEDIMG_CHROMIUM to a Chromium binary. Never `playwright install`.")


@pytest.fixture(scope="session")
def chromium_path():
    path = find_chromium()
    if path is None:
        pytest.skip(SKIP_MESSAGE)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no shared storage) per test."""
    context = browser.new_context(viewport={"width": 1280, "height": 960})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory, chromium_path):
    """JupyterLab serving copies of every notebook, widgets extension enabled."""
    server = LabServer(tmp_path_factory.mktemp("lab"), sorted(NOTEBOOKS.glob("*.ipynb")))
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def shots():
    SHOTS.mkdir(exist_ok=True)
    return SHOTS


def pytest_terminal_summary(terminalreporter):
    if not TIMINGS:
        return
    lines = [f"{name:40} {seconds:6.1f} s" for name, seconds in TIMINGS.items()]
    lines.append(f"{'total':40} {sum(TIMINGS.values()):6.1f} s")
    terminalreporter.section("browser tests: open + Run All per notebook")
    for line in lines:
        terminalreporter.write_line(line)
    if SHOTS.is_dir():  # beside the screenshots (git-ignored)
        (SHOTS / "timings.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
