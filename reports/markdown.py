"""The report as GitHub Markdown (tables by tabulate, pictures as links to ``img/``)."""
from __future__ import annotations

from tabulate import tabulate

from .document import Block, Cell, Code, Contents, Figure, Heading, Para, Table


def _cell(cell: Cell) -> str:
    text = cell.text.replace("|", "\\|")
    if text and cell.role == "bad":
        return f"**{text}**"
    if text and cell.role == "warn":
        return f"*{text}*"
    return text


def table(t: Table) -> str:
    """A GitHub table."""
    return tabulate([[_cell(c) for c in row] for row in t.rows], headers=t.headers,
                    tablefmt="github", colalign=t.align, disable_numparse=True)


def render(blocks: list[Block]) -> str:
    """The Markdown text of the blocks."""
    out = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append("#" * b.level + " " + b.text)
        elif isinstance(b, Para):
            out.append(b.text)
        elif isinstance(b, Table):
            out.append(table(b))
        elif isinstance(b, Figure):
            out.append(f"![{b.caption}]({b.path})")
        elif isinstance(b, Code):
            out.append("```\n" + b.text + "\n```")
        elif isinstance(b, Contents):
            out.append("\n".join(f"- [{h.text}](#{h.anchor})" for h in blocks
                                 if isinstance(h, Heading) and h.level == 2))
    return "\n\n".join(out) + "\n"
