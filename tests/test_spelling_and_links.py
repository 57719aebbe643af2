"""No typos in what learners read, and no links of the wrong form.

Spelling: codespell (pinned) over every notebook's markdown, the README files and the
instructor notes, with the project's word list in ``tests/codespell_words.txt`` (words
codespell would wrongly "correct", one per line, lower case).
Links: every markdown link in the notebooks and READMEs is either a well-formed
http(s) URL or a relative path that exists (with its #anchor, for notebooks).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TEXT_FILES = [p for p in (ROOT / "README.md", ROOT / "data" / "README.md",
                          ROOT / "INSTRUCTORS.md", ROOT / "binder" / "README.md") if p.exists()]
WORDS = ROOT / "tests" / "codespell_words.txt"
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def markdown_of(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    parts = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            src = cell.source if isinstance(cell.source, str) else "".join(cell.source)
            parts.append(f"<!-- cell {i} -->\n{src}")
    return "\n\n".join(parts)


def codespell(paths: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codespell_lib", "--ignore-words", str(WORDS),
                           "--check-filenames", *map(str, paths)],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    out = tmp_path_factory.mktemp("markdown")
    files = []
    for path in NOTEBOOKS:
        target = out / f"{path.stem}.md"
        target.write_text(markdown_of(path), encoding="utf-8")
        files.append(target)
    return files


def test_no_typos_in_notebooks_readmes_and_instructor_notes(extracted):
    result = codespell([*extracted, *TEXT_FILES])
    assert result.returncode == 0, ("codespell found typos (file:line: typo ==> fix); fix "
                                    "them or, if the word is right, add it to "
                                    "tests/codespell_words.txt:\n" + result.stdout)


def test_the_spelling_check_can_fail(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text("The recieved image was writen to disk.\n")
    result = codespell([bad])
    assert result.returncode != 0 and "recieved" in result.stdout


def anchors_of_notebook(path: Path) -> set[str]:
    """Heading anchors as JupyterLab and nbconvert make them (spaces become '-')."""
    ids = set()
    for line in markdown_of(path).splitlines():
        match = re.match(r"#{1,6} (.+)", line)
        if match:
            ids.add(match[1].strip().replace(" ", "-"))
    return ids


def check_link(url: str, base: Path) -> str | None:
    """None if ``url`` is fine, else the reason."""
    parts = urlparse(url)
    if parts.scheme in ("http", "https"):
        if not parts.netloc or " " in url:
            return "malformed URL"
        return None
    if parts.scheme == "mailto":
        return None
    if parts.scheme:
        return f"unexpected scheme {parts.scheme!r}"
    if not parts.path:  # same-page anchor: checked by the caller
        return None
    target = (base / unquote(parts.path)).resolve()
    if not target.exists():
        return "no such file"
    if parts.fragment and target.suffix == ".ipynb":
        if unquote(parts.fragment) not in anchors_of_notebook(target):
            return f"no heading #{parts.fragment} in {target.name}"
    return None


@pytest.mark.parametrize("path", NOTEBOOKS + TEXT_FILES,
                         ids=[p.relative_to(ROOT).as_posix() for p in NOTEBOOKS + TEXT_FILES])
def test_links_are_well_formed_and_local_links_resolve(path):
    text = markdown_of(path) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8")
    own = anchors_of_notebook(path) if path.suffix == ".ipynb" else None
    problems = []
    for url in LINK.findall(text):
        reason = check_link(url, path.parent)
        if reason is None and url.startswith("#") and own is not None:
            if unquote(url[1:]) not in own:
                reason = "no such heading in this notebook"
        if reason:
            problems.append(f"{url}: {reason}")
    assert not problems, f"{path.name}: " + "; ".join(problems)


def test_the_link_check_can_fail(tmp_path):
    assert check_link("missing_notebook.ipynb", tmp_path) == "no such file"
    assert check_link("https:/no-host", tmp_path) == "malformed URL"
    assert check_link("ftp://example.org/x", tmp_path).startswith("unexpected scheme")
    assert check_link("https://docs.python.org/3/", tmp_path) is None
