"""SIGTERM is handled like Ctrl-C, and no process outlives ksecheck.

``check``: the first SIGINT or SIGTERM stops the search, the partial result is printed and
the exit code is 130 or 143; a second signal ends the command at once. ``report``: its
worker processes end with it however it ends (SIGTERM, or SIGKILL where nothing can run),
so a pipe from it (``ksecheck report | tee``) sees its end.
"""
import dataclasses
import json
import multiprocessing
import os
import select
import signal
import subprocess
import sys
import time

import pytest

import ksecheck.cli.check
from ksecheck.registry import catalogue as kse_catalogue

from tests.faults.commands import ROOT, child_env, one_line, run


@pytest.fixture
def signal_at_first_progress(monkeypatch):
    """``arm(*signums)``: the search sends itself these signals at its first progress report."""
    def arm(*signums):
        real = ksecheck.cli.check.explore

        def explore(model, options):
            def progress(p):
                options.on_progress(p)
                for signum in signums:
                    os.kill(os.getpid(), signum)
            return real(model, dataclasses.replace(options, progress_every=0, on_progress=progress))
        monkeypatch.setattr(ksecheck.cli.check, "explore", explore)
    return arm


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
@pytest.mark.parametrize("workers", [1, 2])
def test_a_signal_stops_the_search_and_the_partial_result_is_reported(
        capsys, signal_at_first_progress, signum, code, workers):
    before = signal.getsignal(signum)
    signal_at_first_progress(signum)
    got, out, err = run(capsys, "check", "--config", "grid", "--no-progress", "--json",
                        "--workers", workers)
    assert got == code
    stats = json.loads(out)["statistics"]
    assert (stats["complete"], stats["stopped_by"]) == (False, "interrupt")
    assert json.loads(out)["outcome"] == "INCOMPLETE" and stats["states"] < 3001 ** 2
    name = signal.Signals(signum).name
    assert f"{name}: the search stopped early; the result above is partial" in \
        one_line(err, f"ksecheck: {name}: ")
    assert signal.getsignal(signum) == before
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize("signum, code, says", [(signal.SIGTERM, 143, "terminated"),
                                                 (signal.SIGINT, 130, "interrupted")])
def test_a_second_signal_ends_the_command_at_once(capsys, signal_at_first_progress, signum, code,
                                                  says):
    signal_at_first_progress(signum, signum)
    got, out, err = run(capsys, "check", "--config", "grid", "--no-progress")
    assert got == code and out == "" and one_line(err, f"ksecheck: {says}")


def _kse_report_loads() -> str:
    """Why the KSE catalogue cannot be loaded now ("" if it can): others may be editing it."""
    try:
        kse_catalogue()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid: int) -> set[int]:
    """The live processes whose parent is ``pid``."""
    out = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(entry))
    return out


@pytest.fixture
def report_with_workers(tmp_path):
    """A ``ksecheck report --jobs 2`` (the KSE models) whose two workers have started; its
    standard output is a pipe, as in ``ksecheck report | tee``."""
    if not os.path.isdir("/proc"):
        pytest.skip("no /proc to find the worker processes")
    why = _kse_report_loads()
    if why:
        pytest.skip(f"the KSE catalogue does not load now: {why}")
    proc = subprocess.Popen([sys.executable, "-m", "ksecheck", "report", "--jobs", "2", "--out",
                             str(tmp_path / "report")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=child_env())
    deadline = time.monotonic() + 60
    while len(_children(proc.pid)) < 2:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the report's workers did not start"
        time.sleep(0.05)
    workers = _children(proc.pid)
    yield proc, workers
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _ends_with_its_workers(proc, workers) -> None:
    """The workers are gone, and the pipe from standard output reads its end."""
    deadline = time.monotonic() + 20
    while any(map(_alive, workers)):
        assert time.monotonic() < deadline, f"orphaned workers: {sorted(filter(_alive, workers))}"
        time.sleep(0.05)
    assert select.select([proc.stdout], [], [], 20)[0], "standard output is still held open"
    proc.stdout.read()
    proc.wait(timeout=20)


def test_report_workers_end_when_the_report_is_killed(report_with_workers):
    proc, workers = report_with_workers
    proc.send_signal(signal.SIGKILL)
    _ends_with_its_workers(proc, workers)
    assert proc.returncode == -signal.SIGKILL


def test_report_ends_with_its_workers_on_sigterm(report_with_workers):
    proc, workers = report_with_workers
    proc.send_signal(signal.SIGTERM)
    _ends_with_its_workers(proc, workers)
    assert proc.returncode == 143
    assert one_line(proc.stderr.read(), "ksecheck: terminated")
