"""Nothing is lost: every file is replaced all at once or not at all, a link planted where
ksecheck writes is neither followed nor replaced, and ``report`` removes only what its
previous run wrote (its manifest), never a file of the user's."""
import errno
import json
import os
import shutil
import subprocess

import pytest

from ksecheck.checker.results import files
from ksecheck.checker.results.files import Unwritable, WriteFailed, write_atomic
from ksecheck.reports import generate

from tests.faults.commands import child_command, child_env, one_line, run, ROOT


@pytest.fixture
def pinned(capsys, tmp_path):
    """A pinned file of the example runs, as ``regress --update`` writes it."""
    path = tmp_path / "pinned.json"
    assert run(capsys, "regress", "--update", "--file", path)[0] == 0
    return path


def test_regress_update_under_a_file_size_limit_keeps_the_pinned_file(pinned):
    """``ulimit -f``: the new file cannot be written; the old one stays, byte for byte."""
    before = pinned.read_bytes()
    data = json.loads(before)
    data["runs"]["inc2"]["states"] = 12  # so that the update has something to change
    pinned.write_text(json.dumps(data))
    before = pinned.read_bytes()
    proc = subprocess.run(child_command("--file-size=64", "regress", "--update", "--only", "inc2",
                                        "--file", pinned),
                          capture_output=True, text=True, timeout=120, cwd=ROOT, env=child_env())
    assert proc.returncode == 70
    err = proc.stderr.removeprefix("measured inc2\n")
    assert "File too large" in one_line(err, f"ksecheck: failed: cannot write {pinned}: ")
    assert pinned.read_bytes() == before
    assert sorted(p.name for p in pinned.parent.iterdir()) == ["pinned.json"]  # no temporary left


FULL_DISK = """
mount -t tmpfs -o size=256k tmpfs "$DISK" || exit 99
cp "$KEEP" "$DISK/pinned.json"
head -c 1000000 /dev/zero > "$DISK/filler" 2>/dev/null
"$@" 2> "$OUT/stderr"
echo $? > "$OUT/code"
cmp -s "$KEEP" "$DISK/pinned.json" && touch "$OUT/intact"
ls -A "$DISK" > "$OUT/listing"
"""


@pytest.mark.parametrize("command", [
    ["regress", "--update", "--only", "inc2", "--file", "{disk}/pinned.json"],
    ["check", "--config", "inc2", "--save-traces", "{disk}/traces"],
    ["check", "--config", "inc2", "--junit", "{disk}/pinned.json"],
])
def test_a_full_disk_exits_70_and_keeps_what_was_there(pinned, tmp_path, command):
    """A small tmpfs, filled up, in a mount namespace of its own (skipped where the machine
    allows neither)."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) to mount a small file system")
    disk, out = tmp_path / "disk", tmp_path / "out"
    disk.mkdir()
    out.mkdir()
    argv = [a.format(disk=disk) for a in command]
    proc = subprocess.run(["unshare", "--mount", "--map-root-user", "sh", "-c", FULL_DISK, "sh",
                           *child_command(*argv)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**child_env(), "DISK": str(disk), "KEEP": str(pinned),
                                         "OUT": str(out)})
    if proc.returncode != 0 or not (out / "code").exists():
        pytest.skip(f"cannot mount a small file system here: {proc.stderr.strip()[-200:]}")
    assert (out / "code").read_text().strip() == "70"
    err = (out / "stderr").read_text().removeprefix("measured inc2\n")
    assert "No space left on device" in one_line(err, "ksecheck: failed: ")
    assert (out / "intact").exists()
    assert not [n for n in (out / "listing").read_text().split() if n.endswith(".tmp")]


def test_save_traces_does_not_follow_a_planted_link(capsys, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    traces = tmp_path / "traces"
    traces.mkdir()
    (traces / "no_lost_update.json").symlink_to(victim)
    code, _, err = run(capsys, "check", "--config", "inc2", "--save-traces", traces)
    assert code == 2 and "is a symbolic link, which ksecheck neither follows nor replaces" in \
        one_line(err)
    assert victim.read_text() == "precious" and (traces / "no_lost_update.json").is_symlink()


@pytest.mark.parametrize("where", ["link", "fifo", "folder"])
def test_write_atomic_refuses_what_is_not_a_regular_file(tmp_path, where):
    path = tmp_path / "out.json"
    {"link": lambda: path.symlink_to(tmp_path / "elsewhere"), "fifo": lambda: os.mkfifo(path),
     "folder": path.mkdir}[where]()
    with pytest.raises(Unwritable, match="which ksecheck neither follows nor replaces"):
        write_atomic(path, "text")
    assert not (tmp_path / "elsewhere").exists()


def test_write_atomic_replaces_keeping_the_mode_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "out.json"
    path.write_text("old")
    path.chmod(0o640)
    write_atomic(path, "new")
    assert path.read_text() == "new" and (path.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_write_atomic_that_fails_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "out.json"
    path.write_text("old")

    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(files.os, "fsync", fsync)
    with pytest.raises(WriteFailed, match="No space left on device"):
        write_atomic(path, "new")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_write_atomic_into_a_missing_folder_is_the_users_to_fix(tmp_path):
    with pytest.raises(Unwritable, match="No such file or directory"):
        write_atomic(tmp_path / "no" / "out.json", "text")


REPORT = {"kse-report.md": "# report\n", "img/a.svg": "<svg>a</svg>", "img/b.svg": "<svg>b</svg>"}


def test_report_removes_only_what_its_previous_run_wrote(tmp_path):
    out = tmp_path / "report"
    (out / "img").mkdir(parents=True)
    (out / "img" / "mine.svg").write_text("<svg>the user's own</svg>")
    generate.write(REPORT, out)
    (out / "img" / "b.svg").write_text("<svg>b, edited by the user</svg>")
    generate.write({"kse-report.md": "# report 2\n"}, out)
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert left == [generate.MANIFEST, "img/b.svg", "img/mine.svg", "kse-report.md"]
    assert json.loads((out / generate.MANIFEST).read_text())["files"].keys() == {"kse-report.md"}


def test_report_removes_nothing_a_tampered_manifest_names(tmp_path):
    out = tmp_path / "report"
    generate.write(REPORT, out)
    (tmp_path / "outside.svg").write_text("<svg>a</svg>")
    manifest = json.loads((out / generate.MANIFEST).read_text())
    manifest["files"]["../outside.svg"] = manifest["files"]["img/a.svg"]
    (out / generate.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(generate.UsageError, match="is not a manifest written by `ksecheck report`"):
        generate.write({}, out)
    assert (tmp_path / "outside.svg").exists() and (out / "img" / "a.svg").exists()


def test_report_leaves_a_link_in_place_of_an_old_picture(tmp_path):
    out = tmp_path / "report"
    generate.write(REPORT, out)
    (out / "img" / "a.svg").unlink()
    (out / "img" / "a.svg").symlink_to(out / "kse-report.md")
    generate.write({"kse-report.md": REPORT["kse-report.md"]}, out)
    assert (out / "img" / "a.svg").is_symlink() and (out / "kse-report.md").exists()
