"""Running the command line for the fault tests: in this process, or in a child process
(for signals, resource limits and closed streams), and what a failure must look like."""
import os
import subprocess
import sys
from pathlib import Path

from ksecheck.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv):
    """``(exit code, stdout, stderr)`` of the command line run here."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str, start: str = "ksecheck: error: ") -> str:
    """``err`` if it is one line starting with ``start`` and no traceback."""
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.startswith(start), err
    return err


def child(*argv, memory: int | None = None, file_size: int | None = None, timeout=120,
          **popen) -> subprocess.CompletedProcess:
    """The command line on the fault catalogue in a child process (:mod:`tests.faults.child`),
    with at most ``memory`` MiB more address space, or files of at most ``file_size`` bytes."""
    limits = ([f"--memory={memory}"] if memory is not None else []) \
        + ([f"--file-size={file_size}"] if file_size is not None else [])
    popen.setdefault("capture_output", True)
    return subprocess.run(child_command(*limits, *argv), text=True, timeout=timeout, cwd=ROOT,
                          env=child_env(), **popen)


def child_command(*argv) -> list[str]:
    """The command that runs :mod:`tests.faults.child` with ``argv``."""
    return [sys.executable, "-m", "tests.faults.child", *map(str, argv)]


def child_env() -> dict[str, str]:
    """The environment of a child: this one, with the repository importable."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}
