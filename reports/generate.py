"""The report's files as text, and writing them: ``generate`` then ``write``."""
from __future__ import annotations

from pathlib import Path

from ksecheck.checker.core.catalogue import Catalogue

from ksecheck.reports import html
from ksecheck.reports import markdown
from .build import Report, collect
from .document import TITLE, build_document

MARKDOWN = "kse-report.md"
HTML = "kse-report.html"
IMAGES = "img"


def generate(cat: Catalogue, pinned: Path, *, timings: bool = False,
             workers: int | None = None) -> dict[str, str]:
    """Every file of the report, ``{path relative to the report folder: text}``.

    Without ``timings`` the text depends only on the models: the same models give
    the same bytes, whatever the machine or the number of ``workers``.
    """
    return files_of(collect(cat, pinned, workers=workers, timings=timings))


def files_of(report: Report) -> dict[str, str]:
    """The report's files from its collected runs."""
    doc = build_document(report)
    return {**doc.files, MARKDOWN: markdown.render(doc.blocks), HTML: html.render(doc.blocks, TITLE)}


def write(files: dict[str, str], out: Path) -> list[Path]:
    """Write ``files`` under ``out``; pictures left in ``out/img`` from an older report go."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for rel, text in sorted(files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    images = out / IMAGES
    if images.is_dir():
        for old in sorted(images.glob("*.svg")):
            if old.relative_to(out).as_posix() not in files:
                old.unlink()
    return written
