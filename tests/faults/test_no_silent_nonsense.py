"""No silent nonsense and no hangs: an option that cannot mean anything is refused, output
that goes nowhere is an error, and reading never waits on a pipe."""
import os
import subprocess
import sys
import threading
import time

import pytest

from ksecheck.registry import catalogue as kse_catalogue

from tests.faults.commands import child, one_line, run


@pytest.mark.parametrize("argv, option", [
    (["check", "--config", "inc2", "--junit", ""], "--junit"),
    (["check", "--config", "inc2", "--save-traces", ""], "--save-traces"),
    (["regress", "--file", ""], "--file"),
    (["report", "--out", ""], "--out"),
    (["replay", ""], "file"),
])
def test_an_empty_file_name_is_refused(capsys, argv, option):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert f"argument {option}: an empty name names no file" in one_line(err)


@pytest.mark.parametrize("argv", [["--max-states", "1e3"], ["--max-depth", "nan"],
                                  ["--workers", "inf"]])
def test_whole_numbers_must_be_whole(capsys, argv):
    code, _, err = run(capsys, "check", "--config", "inc2", *argv)
    assert code == 2 and "is not a whole number" in one_line(err)


def test_report_jobs_must_be_positive(capsys):
    code, _, err = run(capsys, "report", "--jobs", "0")
    assert code == 2 and "argument --jobs: 0 must be greater than zero" in one_line(err)


@pytest.mark.parametrize("argv", [["check", "--config", "inc2", "--json"], ["list"]])
def test_a_closed_standard_output_is_an_error_not_a_success(argv):
    """``ksecheck check --json >&-``: nothing can be written, so exit 70, not 0 or 1."""
    proc = child(*argv, preexec_fn=lambda: os.close(1))
    assert proc.returncode == 70
    assert "standard output is closed" in one_line(proc.stderr, "ksecheck: failed: ")


def test_pinned_runs_given_as_a_list_exit_2(capsys, tmp_path):
    path = tmp_path / "pinned.json"
    path.write_text('{"schema": "ksecheck-pinned/1", "runs": [{"model": "increment"}]}')
    code, _, err = run(capsys, "regress", "--file", path)
    assert code == 2 and "\"runs\" must be an object {run: numbers}" in one_line(err)


@pytest.mark.parametrize("command", [["replay"], ["regress", "--file"]])
def test_reading_a_fifo_does_not_wait_for_a_writer(capsys, tmp_path, command):
    """Were the FIFO opened for reading, it would wait for a writer: a thread comes as one
    after five seconds, so a regression fails the test instead of hanging it."""
    fifo = tmp_path / "t.json"
    os.mkfifo(fifo)
    writer = threading.Timer(5, lambda: os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)))
    writer.start()
    start = time.monotonic()
    try:
        code, _, err = run(capsys, *command, fifo)
    finally:
        writer.cancel()
    assert time.monotonic() - start < 5
    assert code == 2 and "is not a regular file" in one_line(err)


def test_python_dash_m_does_not_run_the_current_folders_code(tmp_path):
    """A folder with a ``model/`` or ``checker/`` of its own is not imported instead."""
    try:
        kse_catalogue()
    except Exception as exc:  # the KSE models are written by others and may be broken right now
        pytest.skip(f"the KSE catalogue does not load now: {type(exc).__name__}: {exc}")
    for name in ("model", "checker", "properties", "reports", "registry"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("raise SystemExit('ran the folder')\n")
    proc = subprocess.run([sys.executable, "-m", "ksecheck", "check", "--config", "inc2-locked",
                           "--no-progress"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert proc.returncode == 0 and "ran the folder" not in proc.stderr
