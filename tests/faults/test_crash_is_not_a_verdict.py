"""A crash is never a verdict: whatever fails, the exit code says so (70 when ksecheck itself
failed, 2 for bad input), with one line on standard error and no traceback but under --debug.

Exit 1 means "the protocol is wrong": no fault of ksecheck or of the machine may exit 1.
"""
import io
import json
import os
import subprocess

import pytest

import ksecheck.cli.check
from ksecheck.checker.errors import CheckerBug
from ksecheck.checker.results.files import MAX_BYTES

from tests.faults.commands import child, one_line, run


def test_out_of_memory_exits_70_saying_how_far_it_got_and_what_to_try():
    """``ulimit -v``: the search runs out of address space after its imports."""
    proc = child("check", "--config", "grid", "--no-progress", memory=32)
    assert proc.returncode == 70, proc.stderr
    line = one_line(proc.stderr, "ksecheck: failed: out of memory ")
    assert "try --engine vector" in line and "--max-states" in line


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_a_full_disk_under_standard_output_exits_70():
    """``ksecheck check --json >/dev/full``: the result could not be written."""
    with open("/dev/full", "w") as full:
        proc = child("check", "--config", "inc2", "--json", stdout=full, stderr=subprocess.PIPE,
                     capture_output=False)
    assert proc.returncode == 70
    assert "cannot write standard output: No space left on device" in \
        one_line(proc.stderr, "ksecheck: failed: ")


def test_standard_output_that_fails_at_the_last_flush_exits_70(capsys, monkeypatch):
    class Full(io.StringIO):
        def flush(self):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr("sys.stdout", Full())
    code = ksecheck.cli.main(["check", "--config", "inc2"])
    _, err = capsys.readouterr()
    assert code == 70 and "cannot write standard output" in one_line(err, "ksecheck: failed: ")


@pytest.mark.parametrize("content, says", [
    ("[]", "is not a pinned-numbers file"),
    ('{"schema": "ksecheck-pinned/1", "runs": {"inc2": "many"}}',
     "run 'inc2': must be an object"),
    ('{"schema": "ksecheck-pinned/1", "runs": {"inc2": {"model": "increment", "verdicts": {},'
     ' "states": "13"}}}', "run 'inc2': \"states\" must be a whole number"),
    ('{"schema": "ksecheck-pinned/1", "runs": {"inc2": {"model": "increment",'
     ' "verdicts": {"x": "FINE"}}}}', "\"verdicts\" must be an object {property: verdict}"),
    ('{"schema": "ksecheck-pinned/1", "runs": {"inc2": {"model": "increment"}}}',
     "run 'inc2': no \"verdicts\""),
    ('{"schema": "ksecheck-pinned/1", "runs": {"inc2": {"model": "increment", "verdicts": {},'
     ' "sates": 13}}}', "unknown field 'sates'"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "is not JSON (not UTF-8 text"),
    ('{"schema": "ksecheck-pinned/1", "runs": {"inc2": {"model": "increment", "verdicts": {},'
     ' "states": NaN}}}', "NaN, which is not a JSON number"),
])
def test_a_malformed_pinned_file_exits_2_naming_the_field(capsys, tmp_path, content, says):
    path = tmp_path / "pinned.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, out, err = run(capsys, "regress", "--file", path)
    assert code == 2 and says in one_line(err)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "infinity"])
@pytest.mark.parametrize("command", [["prove"], ["check", "--config", "inc2"]])
def test_timeouts_that_are_not_finite_numbers_exit_2(capsys, command, value):
    code, _, err = run(capsys, *command, f"--timeout={value}")
    assert code == 2 and "is not a finite number" in one_line(err)


def test_more_workers_than_the_machine_allows_exit_2(capsys):
    most = ksecheck.cli.check.max_workers()
    code, _, err = run(capsys, "check", "--config", "inc2", "--workers", most + 1)
    assert code == 2 and f"is more than this machine allows: at most {most}" in one_line(err)
    code, _, err = run(capsys, "check", "--config", "inc2", "--workers", 1000)
    assert code == 2 and "raise the limit with `ulimit -n`" in one_line(err)


@pytest.mark.parametrize("text, says", [
    ("[" * 100_000 + "]" * 100_000, "nests deeper than 32 levels"),
    ('{"format": "ksecheck-trace/1", "loop": ' + "9" * 5000 + "}", "a number of 5,000 digits"),
    ('{"format": "ksecheck-trace/1", "loop": 1e999}', "a number out of range"),
    ('{"format": "ksecheck-trace/1", "loop": Infinity}', "Infinity, which is not a JSON number"),
])
def test_a_trace_file_deep_or_with_huge_numbers_exits_2(capsys, tmp_path, text, says):
    path = tmp_path / "t.json"
    path.write_text(text)
    code, _, err = run(capsys, "replay", path)
    assert code == 2 and says in one_line(err)


def test_a_trace_file_larger_than_the_limit_exits_2(capsys, tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"format": "ksecheck-trace/1", "note": "x" * MAX_BYTES}))
    code, _, err = run(capsys, "replay", path)
    assert code == 2 and f"is larger than {MAX_BYTES:,} bytes" in one_line(err)


def test_replay_of_a_link_to_dev_zero_exits_2_at_once(capsys, tmp_path):
    link = tmp_path / "t.json"
    link.symlink_to("/dev/zero")
    code, _, err = run(capsys, "replay", link)
    assert code == 2 and "is not a regular file" in one_line(err)


@pytest.fixture
def crash(monkeypatch):
    """Make the search raise what the test asks."""
    def arm(exc):
        def explore(model, options):
            raise exc
        monkeypatch.setattr(ksecheck.cli.check, "explore", explore)
    return arm


def test_an_unexpected_exception_exits_70_with_one_line_saying_where_to_report(capsys, crash):
    crash(ZeroDivisionError("division by zero"))
    code, out, err = run(capsys, "check", "--config", "inc2")
    assert code == 70 and out == ""
    line = one_line(err, "ksecheck: internal error: ZeroDivisionError: division by zero at ")
    assert "not a verdict" in line and "please report it" in line and "--debug" in line


@pytest.mark.parametrize("where", [["--debug", "check"], ["check", "--debug"]])
def test_debug_adds_the_traceback(capsys, crash, where):
    crash(ZeroDivisionError("division by zero"))
    code, _, err = run(capsys, *where, "--config", "inc2")
    assert code == 70 and "Traceback (most recent call last)" in err
    assert err.rstrip().splitlines()[-1].startswith("ksecheck: internal error: ZeroDivisionError")


def test_an_inconsistency_the_checker_finds_exits_70(capsys, crash):
    crash(CheckerBug("a rebuilt trace does not replay"))
    code, _, err = run(capsys, "check", "--config", "inc2")
    assert code == 70
    assert "a rebuilt trace does not replay; this is a bug in ksecheck" in \
        one_line(err, "ksecheck: internal error: ")


def test_an_error_line_is_one_line_whatever_the_message_holds(capsys, tmp_path):
    name = tmp_path / "evil\n\x1b[2Jname.json"
    code, _, err = run(capsys, "replay", name)
    assert code == 2 and "evil\\n\\x1b[2Jname.json" in one_line(err)
