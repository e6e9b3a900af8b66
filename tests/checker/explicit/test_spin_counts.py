"""SPIN, on the Promela generated from the model's traced paths, counts the same states.

The speed comparison of ``benchmarks/side_by_side.py`` means something only
if SPIN explores exactly ksecheck's state space: same distinct states, and
``stored + matched = transitions + 1`` (SPIN's initial state is stored
without a transition). Skipped unless ``spin`` and ``gcc`` are on PATH. The
Promela files committed in ``benchmarks/spin`` must be what the generator
writes from the current model.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from benchmarks.spin.promela import write  # noqa: E402

needs_spin = pytest.mark.skipif(shutil.which("spin") is None or shutil.which("gcc") is None,
                                reason="needs spin and gcc (apt-get install spin)")

PINNED = {"tiny": (940, 2081), "small": (169440, 530550)}  # model/pinned.json


def spin_counts(config: str, tmp: Path, bfs: bool) -> tuple[int, int, str]:
    pml = write(config, tmp, bfs=bfs)
    subprocess.run(["spin", "-a", pml.name], cwd=tmp, check=True, capture_output=True)
    flags = ["-O1", "-w", "-DNOREDUCE", "-DSAFETY"] + (["-DBFS"] if bfs else [])
    subprocess.run(["gcc", *flags, "-o", "pan", "pan.c"], cwd=tmp, check=True)
    out = subprocess.run(["./pan", "-m1000000", "-w20"], cwd=tmp, check=True,
                         capture_output=True, text=True).stdout
    stored = int(re.search(r"(\d+) states, stored", out).group(1))
    matched = int(re.search(r"(\d+) states, matched", out).group(1))
    return stored, stored + matched - 1, out


@needs_spin
@pytest.mark.parametrize("bfs", [False, True], ids=["dfs", "bfs"])
@pytest.mark.parametrize("config", ["tiny", "small"])
def test_spin_counts_the_same_states(config, bfs, tmp_path):
    states, transitions, out = spin_counts(config, tmp_path, bfs)
    assert (states, transitions) == PINNED[config]
    assert "errors: 0" in out  # every invariant holds in SPIN too


@pytest.mark.parametrize("config", ["tiny", "small", "medium"])
def test_the_committed_promela_is_what_the_generator_writes(config, tmp_path):
    """benchmarks/spin/upcall_<config>.pml is regenerated when the model changes."""
    committed = ROOT / "benchmarks" / "spin" / f"upcall_{config}.pml"
    assert committed.read_text() == write(config, tmp_path).read_text(), (
        f"regenerate it: python benchmarks/spin/promela.py {config}")
