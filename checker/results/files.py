"""Files ksecheck reads and writes: bounded JSON in, atomic replacement out.

Input is read only from a regular file (never a FIFO or a device), up to a
size, and its JSON only to a depth and with numbers of a bounded length;
anything else is refused in one line. Output goes to a temporary file in
the same directory, is flushed to disk and renamed into place, so that a
crash, a full disk or a file-size limit never leaves half a file. A
symbolic link or any other file that is not a regular file in the way is
refused: never followed, never replaced.
"""
from __future__ import annotations

import errno
import json
import math
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from ..errors import KsecheckError

MAX_BYTES = 16 * 2**20
"""The largest input file read (traces and pinned numbers are far smaller)."""
MAX_DEPTH = 32
"""How deeply input JSON may nest (a trace nests four levels)."""
MAX_DIGITS = 30
"""The longest number input JSON may hold."""

_FAULTS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EMFILE, errno.ENFILE,
           errno.ENOMEM}
"""Write errors that are the machine's, not the command's: full disk, quota, file-size
limit, I/O error, no file descriptors or memory left."""


class Unwritable(KsecheckError):
    """A file the user named cannot be written there (exit code 2): missing or read-only
    folder, no permission, a link or a folder in the way."""


class WriteFailed(Exception):
    """Output could not be written for a reason of the machine's: full disk, I/O error."""


def read_json(path: str | Path, what: str, error: type[KsecheckError]) -> Any:
    """The JSON of the regular file ``path`` (``what`` it should be, for messages);
    ``error`` with one line if it cannot be read, is too big or is not bounded JSON."""
    text = _read_text(path, what, error)
    try:
        data = json.loads(text, parse_int=_integer, parse_float=_real, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise error(f"{path} is not JSON ({exc}); give {what}") from None
    except ValueError as exc:  # a number too long to read
        raise error(f"{path} holds {exc}; give {what}") from None
    except RecursionError:
        raise error(f"{path} nests deeper than {MAX_DEPTH} levels; give {what}") from None
    if _depth(data) > MAX_DEPTH:
        raise error(f"{path} nests deeper than {MAX_DEPTH} levels; give {what}")
    return data


def whole_number(value: Any) -> bool:
    """Whether a JSON value is a whole number (``true`` is not one, though Python says so)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _read_text(path: str | Path, what: str, error: type[KsecheckError]) -> str:
    """The UTF-8 text of the regular file ``path``, at most :data:`MAX_BYTES` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO must not block
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise error(f"{path} is not a regular file; give {what}")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:
        raise error(f"{path} is larger than {MAX_BYTES:,} bytes; give {what}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path} is not JSON (not UTF-8 text: {exc.reason} at byte {exc.start}); "
                    f"give {what}") from None


def write_atomic(path: str | Path, text: str) -> None:
    """Replace ``path`` by a regular file holding ``text``, all at once.

    The text goes to a new temporary file beside ``path``, flushed to disk,
    then renamed over it: readers see the old file or the new, never a part.
    An existing ``path`` keeps its permissions; one that is a symbolic link
    or not a regular file is refused (:class:`Unwritable`). A full disk or
    an I/O error raises :class:`WriteFailed`; the old file is then intact.
    """
    path = Path(path)
    try:
        old = os.lstat(path)
    except FileNotFoundError:
        old = None
    except OSError as exc:
        raise _failure(f"cannot write {path}", exc) from None
    if old is not None and not stat.S_ISREG(old.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(old.st_mode) else "not a regular file"
        raise Unwritable(f"cannot write {path}: it is {kind}, which ksecheck neither follows "
                         "nor replaces; remove it or name another file")
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o666)
    except OSError as exc:
        raise _failure(f"cannot write {path}", exc) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if old is not None:
                os.fchmod(f.fileno(), stat.S_IMODE(old.st_mode))
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise _failure(f"cannot write {path}", exc) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def make_folder(path: str | Path) -> None:
    """Create the folder ``path``, and its parents, where missing; :class:`Unwritable` or
    :class:`WriteFailed` as :func:`write_atomic`."""
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _failure(f"cannot create the folder {path}", exc) from None


def _sync_folder(folder: Path) -> None:
    """Flush the rename to disk where the file system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a folder; the rename is done all the same
        pass
    finally:
        os.close(fd)


def _failure(doing: str, exc: OSError) -> Exception:
    """The error for ``exc`` while ``doing`` (``cannot write X``): the machine's or the
    command's."""
    message = f"{doing}: {exc.strerror}"
    return WriteFailed(message) if exc.errno in _FAULTS else Unwritable(message)


def _integer(text: str) -> int:
    if len(text) > MAX_DIGITS:
        raise ValueError(f"a number of {len(text):,} digits; at most {MAX_DIGITS} are read")
    return int(text)


def _real(text: str) -> float:
    value = float(text) if len(text) <= MAX_DIGITS else math.inf
    if not math.isfinite(value):
        raise ValueError(f"a number out of range: {text[:MAX_DIGITS]}")
    return value


def _constant(text: str):
    raise ValueError(f"{text}, which is not a JSON number")


def _depth(data: Any) -> int:
    """How deeply ``data`` nests (a scalar is 0), without recursion."""
    deepest, todo = 0, [(data, 0)]
    while todo:
        value, depth = todo.pop()
        deepest = max(deepest, depth)
        if isinstance(value, dict):
            todo += [(v, depth + 1) for v in value.values()]
        elif isinstance(value, list):
            todo += [(v, depth + 1) for v in value]
    return deepest
