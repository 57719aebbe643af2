"""`make site`: a static, offline, navigable HTML copy of the executed notebooks."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from medimg import site

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class Page(HTMLParser):
    """Collects links, image sources, element ids, scripts and details of one page."""

    def __init__(self, text: str):
        super().__init__()
        self.hrefs, self.srcs, self.ids, self.scripts, self.stylesheets = [], [], set(), 0, 0
        self.details = 0
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
        if tag in ("img", "source") and "src" in attrs:
            self.srcs.append(attrs["src"])
        if tag == "script":
            self.scripts += 1
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.stylesheets += 1
        if tag == "details":
            self.details += 1


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    dest = tmp_path_factory.mktemp("site") / "site"
    pages = site.build_site(ROOT / "notebooks", dest)
    parsed = {p.name: Page(p.read_text(encoding="utf-8")) for p in pages}
    return dest, parsed


def test_an_index_and_one_page_per_notebook(built):
    dest, parsed = built
    assert set(parsed) == {"index.html", *(f"{p.stem}.html" for p in NOTEBOOKS)}
    assert not list(dest.parent.glob(".*partial*")), "temporary folder left behind"


def test_every_link_and_image_resolves(built):
    dest, parsed = built
    for name, page in parsed.items():
        for href in page.hrefs:
            url = urlparse(href)
            if url.scheme in ("http", "https", "mailto"):
                assert url.scheme == "mailto" or url.netloc, f"{name}: malformed link {href}"
                continue
            assert not url.scheme, f"{name}: unexpected link {href}"
            assert not url.path.endswith(".ipynb"), f"{name}: link to a notebook: {href}"
            target = name if not url.path else url.path
            assert (dest / target).is_file(), f"{name}: broken link {href}"
            if url.fragment:
                assert url.fragment in parsed[target].ids, f"{name}: missing anchor {href}"
        for src in page.srcs:
            assert src.startswith("data:image/") or (dest / src).is_file(), (
                f"{name}: image not found: {src[:60]}")


def test_pages_work_offline(built):
    _, parsed = built
    for name, page in parsed.items():
        assert page.scripts == 0 and page.stylesheets == 0, f"{name} loads external code"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_page_has_toc_navigation_folded_solutions_and_figures(built, path):
    dest, parsed = built
    nb = nbformat.read(path, as_version=4)
    page = parsed[f"{path.stem}.html"]
    text = (dest / f"{path.stem}.html").read_text(encoding="utf-8")
    # table of contents: every section heading is linked from the side bar
    toc = text.split('<nav class="toc">', 1)[1].split("</nav>", 1)[0]
    sections = re.findall(r'<h2 id="([^"]+)"', text.split("</nav>", 1)[1])
    assert sections and all(f'href="#{s}"' in toc for s in sections)
    assert "index.html" in page.hrefs
    # one fold per solution block (consecutive solution cells form one block)
    tags = ["solution" in c.metadata.get("tags", []) for c in nb.cells]
    blocks = sum(1 for i, t in enumerate(tags) if t and (i == 0 or not tags[i - 1]))
    assert page.details == blocks
    # every stored PNG figure is on the page, widgets included (their static image)
    pngs = sum(1 for c in nb.cells for o in c.get("outputs", [])
               if "image/png" in o.get("data", {}))
    assert sum(s.startswith("data:image/png") for s in page.srcs) == pngs
    assert WIDGET_VIEW not in text


def test_index_lists_every_episode_with_its_time_and_questions(built):
    dest, parsed = built
    text = (dest / "index.html").read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        info = site.summary(nbformat.read(path, as_version=4), path.stem)
        assert f'href="{path.stem}.html"' in text
        assert f"{info['teaching']} min teaching" in text
        assert info["questions"] and all(html.escape(q) in text for q in info["questions"])


def test_links_between_notebooks_become_page_links():
    body = ('<a href="02_mri.ipynb">x</a> <a href="03_registration_segmentation.ipynb#Top">y'
            '</a> <a href="https://example.org/a.ipynb">z</a>')
    fixed = site._fix_links(body)
    assert 'href="02_mri.html"' in fixed
    assert 'href="03_registration_segmentation.html#Top"' in fixed
    assert 'href="https://example.org/a.ipynb"' in fixed


def test_clear_error_when_there_are_no_notebooks(tmp_path):
    with pytest.raises(SystemExit, match="no notebooks found"):
        site.build_site(tmp_path / "nowhere", tmp_path / "site")
