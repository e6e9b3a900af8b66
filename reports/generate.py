"""The report's files as text, and writing them: ``generate`` then ``write``."""
from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path

from ksecheck.checker.core.catalogue import Catalogue
from ksecheck.checker.errors import UsageError
from ksecheck.checker.results.files import make_folder, read_json, write_atomic

from ksecheck.reports import html
from ksecheck.reports import markdown
from .build import Report, collect
from .document import TITLE, build_document

MARKDOWN = "kse-report.md"
HTML = "kse-report.html"
IMAGES = "img"
MANIFEST = ".ksecheck-report.json"
"""What the last ``write`` put in a report folder, with each file's SHA-256: the next
removes what it no longer writes, unless changed since (nothing else is ever removed)."""
MANIFEST_SCHEMA = "ksecheck-report-manifest/1"


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
    """Write ``files`` under ``out``, each replaced all at once; then remove what the previous
    write there (its manifest) wrote and this one does not, if unchanged since."""
    previous = _manifest(out)  # a bad manifest stops the write before anything changes
    written = []
    for rel, text in sorted(files.items()):
        path = out / rel
        make_folder(path.parent)
        write_atomic(path, text)
        written.append(path)
    for rel, digest in sorted(previous.items()):
        if rel not in files:
            _remove_unchanged(out / rel, digest)
    record = {rel: hashlib.sha256(text.encode("utf-8")).hexdigest() for rel, text in files.items()}
    write_atomic(out / MANIFEST, json.dumps({"schema": MANIFEST_SCHEMA, "files": record},
                                            indent=1, sort_keys=True) + "\n")
    return written


def _manifest(out: Path) -> dict[str, str]:
    """``{relative path: SHA-256}`` of what the last write put in ``out`` ({} if none)."""
    path = out / MANIFEST
    if not os.path.lexists(path):
        return {}
    data = read_json(path, f"the manifest `ksecheck report` writes ({MANIFEST_SCHEMA}), or "
                           "remove it", UsageError)
    files = data.get("files") if isinstance(data, dict) else None
    if (not isinstance(data, dict) or data.get("schema") != MANIFEST_SCHEMA
            or not isinstance(files, dict)
            or not all(_inside(rel) and isinstance(d, str) and re.fullmatch("[0-9a-f]{64}", d)
                       for rel, d in files.items())):
        raise UsageError(f"{path} is not a manifest written by `ksecheck report`; remove it "
                         "(no old file of the report is then removed)")
    return files


def _inside(rel: str) -> bool:
    """Whether ``rel`` names a file inside the report folder."""
    parts = rel.split("/")
    return not rel.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def _remove_unchanged(path: Path, digest: str) -> None:
    """Remove ``path`` if it is a regular file that still holds what was written there."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:  # gone, or a link: not ours
        return
    with open(fd, "rb") as f:
        ours = (stat.S_ISREG(os.fstat(fd).st_mode)
                and hashlib.file_digest(f, "sha256").hexdigest() == digest)
    if ours:
        try:
            path.unlink()
        except OSError as exc:
            raise UsageError(f"cannot remove {path}, written by the last report: "
                             f"{exc.strerror}") from None
