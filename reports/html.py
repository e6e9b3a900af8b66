"""The report as one self-contained HTML page: inline CSS, pictures inlined as SVG."""
from __future__ import annotations

import re
from html import escape

from tabulate import tabulate

from .document import Block, Cell, Code, Contents, Figure, Heading, Para, Table

CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
       color: #1e293b; margin: 0; background: #f8fafc; }
main { max-width: 1280px; margin: 0 auto; padding: 1.5em 2em 4em; background: #fff; }
h1 { font-size: 1.8em; margin-top: 0.2em; }
h2 { border-bottom: 2px solid #e2e8f0; padding-bottom: 0.2em; margin-top: 2.2em; }
h3 { margin-top: 1.8em; }
h4 { margin-top: 1.4em; color: #334155; }
code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.88em; }
code { background: #f1f5f9; padding: 0 0.25em; border-radius: 3px; }
pre { background: #f1f5f9; padding: 0.7em 1em; overflow-x: auto; }
pre code { background: none; padding: 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #cbd5e1; padding: 0.25em 0.6em; vertical-align: top; }
th { background: #f1f5f9; }
tr:nth-child(even) td { background: #fafbfc; }
.good { color: #15803d; }
.bad { color: #b91c1c; font-weight: bold; }
.warn { color: #b45309; font-style: italic; }
figure { margin: 1em 0; overflow-x: auto; }
figure svg { display: block; max-width: none; }
figcaption { color: #64748b; font-size: 0.85em; margin-top: 0.3em; }
nav ul { columns: 2; }
a { color: #1d4ed8; }
"""


def inline(text: str) -> str:
    """Escape ``text`` and turn ```code```, ``**bold**`` and ``[text](target)`` into HTML."""
    out = escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", lambda m: f'<a href="{m[2]}">{m[1]}</a>', out)


def _cell(cell: Cell) -> str:
    return f'<span class="{cell.role}">{inline(cell.text)}</span>' if cell.role else inline(cell.text)


def table(t: Table) -> str:
    """An HTML table by tabulate, with styled cells."""
    text = tabulate([[_cell(c) for c in row] for row in t.rows],
                    headers=[inline(h) for h in t.headers], tablefmt="unsafehtml",
                    colalign=t.align, disable_numparse=True)
    return re.sub(r"(<t[dh][^>]*>) *(.*?) *(</t[dh]>)", r"\1\2\3", text)  # drop the padding


def render(blocks: list[Block], title: str) -> str:
    """The HTML page of the blocks."""
    body = []
    for b in blocks:
        if isinstance(b, Heading):
            body.append(f'<h{b.level} id="{b.anchor}">{inline(b.text)}</h{b.level}>')
        elif isinstance(b, Para):
            body.append(f"<p>{inline(b.text)}</p>")
        elif isinstance(b, Table):
            body.append(table(b))
        elif isinstance(b, Figure):
            body.append(f"<figure>\n{b.svg.strip()}\n<figcaption>{inline(b.caption)}</figcaption>\n</figure>")
        elif isinstance(b, Code):
            body.append(f"<pre><code>{escape(b.text, quote=False)}</code></pre>")
        elif isinstance(b, Contents):
            items = "".join(f'<li><a href="#{h.anchor}">{inline(h.text)}</a></li>'
                            for h in blocks if isinstance(h, Heading) and h.level == 2)
            body.append(f"<nav><ul>{items}</ul></nav>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")
