"""A static, offline HTML site of the executed course notebooks.

    python -m medimg.site notebooks site        (or: make site)

Writes ``site/index.html`` (the episode table: title, questions, time, data used) and
one page per notebook with a table of contents, previous/next links, solutions folded
into ``<details>`` and every figure embedded. Interactive widgets are shown by the
static image the viewer stores beside them. Pages need no network: no scripts, no web
fonts, styles inlined. Links between notebooks (``02_mri.ipynb``) point at the pages
(``02_mri.html``). The site is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import argparse
import copy
import html
import re
import sys
from pathlib import Path

from medimg._staging import notebooks_in, staged_folder

COURSE = "Medical Image Processing in Python"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# Solution cells become folded <details>; everything else is nbconvert's basic HTML.
CELL_TEMPLATE = r"""{%- extends 'basic/index.html.j2' -%}
{% block any_cell %}
{%- if 'solution' in cell.metadata.get('tags', []) -%}
<details class="solution"><summary>Solution</summary>
{{ super() }}
</details>
{%- else -%}
{{ super() }}
{%- endif -%}
{% endblock any_cell %}
"""

PAGE_CSS = """
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: #1a1a1a; background: #fff; }
header.top { background: #1f3b57; color: #fff; padding: .6em 1.2em; }
header.top a { color: #fff; margin-right: 1.2em; }
.layout { display: flex; gap: 2em; max-width: 80em; margin: 0 auto; padding: 1em; }
nav.toc { flex: 0 0 16em; position: sticky; top: 0; align-self: flex-start;
          max-height: 100vh; overflow-y: auto; font-size: 90%; }
nav.toc ul { padding-left: 1.1em; }
nav.toc li.sub { margin-left: 1em; font-size: 92%; list-style: circle; }
main { flex: 1 1 auto; min-width: 0; }
main img { max-width: 100%; height: auto; }
.input_area, .highlight { background: #f6f8fa; border-radius: 4px; overflow-x: auto; }
.highlight pre, .output pre { padding: .6em; margin: .3em 0; overflow-x: auto; }
.output pre { background: #fff; border-left: 3px solid #ccd; }
.prompt { display: none; }
details.solution { border: 1px solid #c7d2e0; border-radius: 6px; padding: .3em .8em;
                   margin: .6em 0 1.2em; background: #fbfcfe; }
details.solution > summary { cursor: pointer; font-weight: 600; color: #1f3b57; }
table { border-collapse: collapse; margin: .8em 0; }
th, td { border: 1px solid #ccd; padding: .3em .6em; vertical-align: top; text-align: left; }
a.anchor-link { visibility: hidden; margin-left: .3em; text-decoration: none; }
h1:hover a.anchor-link, h2:hover a.anchor-link, h3:hover a.anchor-link { visibility: visible; }
footer { color: #555; font-size: 85%; text-align: center; padding: 2em; }
"""


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _static_outputs(nb):
    """A copy of ``nb`` whose widget outputs fall back to their stored static image."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
                if not set(data) - {"text/plain"}:  # nothing to show but a repr
                    data["text/plain"] = "[interactive widget: run the notebook to use it]"
    return nb


def summary(nb, name: str) -> dict:
    """Title, time, questions and datasets of an episode, read from the notebook."""
    first = _source(nb.cells[0]) if nb.cells else ""
    title = re.search(r"^# (.+)$", first, re.M)
    time = re.search(r"\*Teaching: (\d+) min · Exercises: (\d+) min\*", first)
    questions = []
    if "**Questions**" in first:
        block = first.split("**Questions**", 1)[1].split("**Objectives**", 1)[0]
        questions = [q.strip() for q in re.findall(r"^\s*[-*] (.+)$", block, re.M)]
    code = "\n".join(_source(c) for c in nb.cells if c.cell_type == "code")
    datasets = sorted(set(re.findall(r"""data\.path\(\s*["']([A-Za-z0-9_]+)["']""", code)))
    return {"name": name, "title": title[1].strip() if title else name,
            "teaching": int(time[1]) if time else None,
            "exercises": int(time[2]) if time else None,
            "questions": questions, "datasets": datasets}


def _fix_links(body: str) -> str:
    """Local links to notebooks point at their pages."""
    return re.sub(r'href="(?![a-z]+:)([^"#]*?)\.ipynb(#[^"]*)?"',
                  lambda m: f'href="{m[1]}.html{m[2] or ""}"', body)


def _toc(body: str) -> str:
    items = []
    for level, ident, text in re.findall(r'<h([23]) id="([^"]+)">(.*?)</h\1>', body, re.S):
        label = re.sub(r"<[^>]+>|¶", "", text).strip()
        indent = ' class="sub"' if level == "3" else ""
        items.append(f'<li{indent}><a href="#{ident}">{label}</a></li>')
    return "<ul>\n" + "\n".join(items) + "\n</ul>" if items else ""


def _page(title: str, body: str, nav: str, toc: str, css: str) -> str:
    aside = f'<nav class="toc"><h2>Contents</h2>\n{toc}\n</nav>' if toc else ""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)} — {COURSE}</title>\n<style>{css}</style>\n"
            f'</head>\n<body>\n<header class="top">{nav}</header>\n'
            f'<div class="layout">\n{aside}\n<main>\n{body}\n</main>\n</div>\n'
            f"<footer>{COURSE} — code MIT, text CC BY 4.0, data under each source's "
            f"licence (see the credits of each episode).</footer>\n</body>\n</html>\n")


def _index_body(rows: list[dict]) -> str:
    lines = [f"<h1>{COURSE}</h1>",
             "<p>Executed notebooks of the course, one page per episode. Solutions are "
             "folded: open them after you have tried. To run the code yourself, see the "
             "course README (<code>make lab</code>).</p>",
             "<table>", "<thead><tr><th>episode</th><th>questions</th><th>time</th>"
             "<th>data used</th></tr></thead>", "<tbody>"]
    for row in rows:
        questions = "".join(f"<li>{html.escape(q)}</li>" for q in row["questions"])
        time = (f"{row['teaching']} min teaching<br>{row['exercises']} min exercises"
                if row["teaching"] is not None else "")
        data = ", ".join(f"<code>{d}</code>" for d in row["datasets"]) or "—"
        lines.append(f'<tr><td><a href="{row["name"]}.html">{html.escape(row["title"])}'
                     f"</a></td><td><ul>{questions}</ul></td><td>{time}</td>"
                     f"<td>{data}</td></tr>")
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)


def build_site(src: Path, dest: Path) -> list[Path]:
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter
    from pygments.formatters import HtmlFormatter

    notebooks = notebooks_in(src, "python -m medimg.site notebooks site")
    exporter = HTMLExporter(template_name="basic",
                            extra_loaders=[jinja2.DictLoader({"course.j2": CELL_TEMPLATE})],
                            template_file="course.j2")
    css = PAGE_CSS + HtmlFormatter(style="default").get_style_defs(".highlight")
    rows, pages = [], []
    with staged_folder(dest) as tmp:
        loaded = [(p, nbformat.read(p, as_version=4)) for p in notebooks]
        for i, (path, nb) in enumerate(loaded):
            rows.append(summary(nb, path.stem))
            body, _ = exporter.from_notebook_node(_static_outputs(nb))
            body = _fix_links(body)
            body = re.sub(r"</details>\s*<details class=\"solution\"><summary>Solution</summary>",
                          "", body)  # one fold per solution, however many cells it has
            links = ['<a href="index.html">Course index</a>']
            if i > 0:
                links.append(f'<a href="{loaded[i - 1][0].stem}.html">← previous</a>')
            if i + 1 < len(loaded):
                links.append(f'<a href="{loaded[i + 1][0].stem}.html">next →</a>')
            page = tmp / f"{path.stem}.html"
            page.write_text(_page(rows[-1]["title"], body, " ".join(links), _toc(body), css),
                            encoding="utf-8")
            pages.append(dest / page.name)
        (tmp / "index.html").write_text(
            _page("Course index", _index_body(rows), '<a href="index.html">Course index</a>',
                  "", css), encoding="utf-8")
    return [dest / "index.html", *pages]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, nargs="?", default=Path("notebooks"))
    parser.add_argument("dest", type=Path, nargs="?", default=Path("site"))
    args = parser.parse_args(argv)
    pages = build_site(args.source, args.dest)
    print(f"{len(pages)} pages in {args.dest}/ — open {args.dest}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
