"""ksecheck against SPIN on the same upcall configuration, in one run: states, seconds, memory.

For each configuration (``--configs``), every engine (``--engines``) explores
the whole state space of the correct ``upcall`` model, one after the other,
each in its own process:

* ``explore``: :func:`checker.explicit.search.explore` (compiled successor function);
* ``vector``: :func:`checker.explicit.search.explore`;
* ``vector-N`` (``vector-2``, ...): the same with ``workers=N`` processes
  (:mod:`checker.explicit.parallel`); its peak RSS is the parent's peak plus each
  worker's growth after it was forked (``stats.peak_rss_bytes``);
* ``spin-dfs`` / ``spin-bfs``: SPIN on the Promela that
  ``benchmarks/spin/promela.py`` generates from the model's traced paths,
  compiled ``gcc -O2 -DNOREDUCE -DSAFETY`` (``-DBFS`` for ``spin-bfs``),
  single core, run with ``-w`` set to ceil(log2(states)) + 1 and ``-m`` (DFS
  depth) big enough, raised until SPIN no longer says it is too small.

Every row shows distinct states and transitions (SPIN's ``stored`` and
``stored + matched - 1``: the table is only meaningful if they equal
ksecheck's, and the script says so when they do not; from 10^7 on SPIN
prints ``matched`` with six significant digits, and the transitions get a
``~``), the search's own
seconds (ksecheck: the BFS loop, ``stats.seconds``; SPIN: pan's "elapsed
time"), the wall seconds of the whole process (ksecheck: tracing, compiling
and liveness off; SPIN: pan alone, after ``spin -a`` and gcc, which are in
``prep s``), states per second of search, the process's peak resident set
size (``wait4``'s ``ru_maxrss``) and that peak per state. The last column
is each engine's states/s relative to ``spin-dfs`` (or the first SPIN run).

Liveness is off for ksecheck (SPIN checks no liveness here either); the
invariants are on for both (SPIN asserts them in a monitor process), and
the ``verdict`` column says whether every invariant held (ksecheck also
decides its reachability goals, which SPIN does not).

Run from the repository root (installs SPIN with apt-get if it is missing)::

    python benchmarks/side_by_side.py --configs small,medium
    python benchmarks/side_by_side.py --configs large --engines vector,spin-dfs
    python benchmarks/side_by_side.py --configs medium,large --engines vector,vector-2

Not a test: timings on a shared machine are noisy; compare the rows of one run.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def ensure_spin() -> str:
    """The path of ``spin``, installing the Debian package first if it is missing."""
    path = shutil.which("spin")
    if path is None:
        subprocess.run(["apt-get", "update"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "spin"], check=True, stdout=subprocess.DEVNULL)
        path = shutil.which("spin")
        if path is None:
            raise SystemExit("apt-get installed spin but it is not on PATH")
    return path


def run_measured(cmd: list[str], cwd: Path | None = None) -> tuple[str, float, int]:
    """Run ``cmd``; its stdout, wall seconds and peak RSS in bytes (its own, via wait4)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{text[-3000:]}")
    return text, wall, usage.ru_maxrss * 1024


# ---- ksecheck ----------------------------------------------------------------------

def child(engine: str, config: str) -> dict:
    """Explore ``config`` with ``engine`` in this process; the numbers as a dict."""
    from ksecheck.checker.explicit.search import explore
    from ksecheck.checker.explicit.options import Options
    from ksecheck.registry import catalogue

    model = catalogue().family("upcall").instantiate(config)
    if engine == "explore":
        r = explore(model, Options(liveness=False))
    elif engine == "vector" or re.fullmatch(r"vector-\d+", engine):
        r = explore(model, Options(engine="vector", liveness=False,
                                   workers=int(engine.partition("-")[2] or 1)))
    else:
        raise SystemExit(f"unknown engine {engine}")
    if r.stats.engine not in ("compiled", "vector"):
        raise SystemExit(f"{engine} ran the {r.stats.engine} engine")
    broken = [p.name for p in r.properties if p.kind == "always" and p.verdict.value != "HOLDS"]
    return {"states": r.stats.states, "transitions": r.stats.transitions,
            "search_s": r.stats.seconds, "holds": "HOLDS" if not broken else "VIOLATED",
            "phases": r.stats.phases, "rss_all": r.stats.peak_rss_bytes,
            "workers": r.stats.workers}


def ksecheck(engine: str, config: str) -> dict:
    out, wall, rss = run_measured([sys.executable, __file__, "--child", engine, config], cwd=ROOT)
    data = json.loads(out.strip().splitlines()[-1])
    # wait4 gives the largest process of the tree; with workers, stats add up the processes
    data.update(wall_s=wall, rss=max(rss, data.pop("rss_all")), prep_s=0.0)
    return data


# ---- SPIN --------------------------------------------------------------------------

def build_pan(config: str, bfs: bool, workdir: Path) -> tuple[Path, float]:
    """Generate the Promela, run ``spin -a`` and gcc; the pan binary and the seconds it took."""
    from benchmarks.spin.promela import write

    start = time.perf_counter()
    sub = workdir / f"{config}-{'bfs' if bfs else 'dfs'}"
    sub.mkdir(parents=True, exist_ok=True)
    pml = write(config, sub, bfs=bfs)
    subprocess.run([ensure_spin(), "-a", pml.name], cwd=sub, check=True, stdout=subprocess.DEVNULL)
    flags = ["-O2", "-w", "-DNOREDUCE", "-DSAFETY"] + (["-DBFS"] if bfs else [])
    subprocess.run(["gcc", *flags, "-o", "pan", "pan.c"], cwd=sub, check=True)
    return sub / "pan", time.perf_counter() - start


NUM = r"([\d.]+(?:e[+-]?\d+)?)"


def _spin_lines(text: str) -> str:
    """SPIN's own count lines, for the record."""
    keep = ("states, stored", "states, matched", "transitions (=", "State-vector", "elapsed time",
            "total actual memory")
    return "; ".join(" ".join(line.split()) for line in text.splitlines()
                     if any(k in line for k in keep))


def spin(config: str, bfs: bool, expected_states: int | None, workdir: Path) -> dict:
    pan, prep = build_pan(config, bfs, workdir)
    w = max(18, math.ceil(math.log2(expected_states or 1 << 20)) + 1)
    depth = max(1_000_000, (expected_states or 0) // 4)
    while True:
        args = [str(pan), f"-w{w}"] + ([] if bfs else [f"-m{depth}"])
        text, wall, rss = run_measured(args, cwd=pan.parent)
        if "max search depth too small" not in text or bfs:
            break
        depth *= 4
    stored, exact_stored = _count(text, " states, stored")
    matched, exact_matched = _count(text, " states, matched")
    errors = int(re.search(r"errors: (\d+)", text).group(1))
    return {"states": stored, "transitions": stored + matched - 1,
            "approx": not (exact_stored and exact_matched),
            "search_s": float(re.search(r"pan: elapsed time " + NUM + " seconds", text).group(1)),
            "holds": "HOLDS" if errors == 0 else "VIOLATED", "wall_s": wall, "rss": rss,
            "prep_s": prep, "spin_flags": " ".join(args[1:]), "spin_lines": _spin_lines(text),
            "vector_bytes": int(re.search(r"State-vector (\d+) byte", text).group(1))}


def _count(text: str, what: str) -> tuple[int, bool]:
    """The count SPIN printed before ``what``, and whether exactly (from 10^7 on it prints
    %g: six significant digits)."""
    m = re.search(NUM + what, text)
    if m is None:
        raise RuntimeError(f"no {what!r} in SPIN's output:\n{text[-2000:]}")
    return int(float(m.group(1))), "e" not in m.group(1)


# ---- the table ---------------------------------------------------------------------

HEADERS = ["config", "engine", "states", "transitions", "verdict", "search s", "states/s",
           "wall s", "prep s", "peak RSS MB", "RSS B/state", "speed vs SPIN"]


def bench(configs: list[str], engines: list[str], workdir: Path) -> tuple[list[list], list[str]]:
    rows, notes = [], []
    for config in configs:
        results: dict[str, dict] = {}
        states = None
        for engine in engines:
            if engine.startswith("spin"):
                results[engine] = spin(config, engine == "spin-bfs", states, workdir)
            else:
                results[engine] = ksecheck(engine, config)
            states = states or results[engine]["states"]
            print(f"  {config} {engine}: {results[engine]['states']:,} states in "
                  f"{results[engine]['search_s']:.2f} s", file=sys.stderr, flush=True)
        ref = next((results[e] for e in ("spin-dfs", "spin-bfs") if e in results), None)
        counts = {(r["states"], r["transitions"]) for r in results.values() if not r.get("approx")}
        if len({r["states"] for r in results.values()}) > 1 or len(counts) > 1:
            notes.append(f"{config}: the engines disagree on (states, transitions): {sorted(counts)}")
        for engine, r in results.items():
            rate = r["states"] / max(r["search_s"], 1e-3)  # SPIN prints 0 below 10 ms
            ref_rate = None if ref is None else ref["states"] / max(ref["search_s"], 1e-3)
            vs = "" if ref is None else f"{rate / ref_rate:.2f}x"
            trans = ("~" if r.get("approx") else "") + f"{r['transitions']:,}"
            rows.append([config, engine, f"{r['states']:,}", trans, r["holds"],
                         f"{r['search_s']:.2f}", f"{rate:,.0f}", f"{r['wall_s']:.2f}",
                         f"{r['prep_s']:.1f}", f"{r['rss'] / 2**20:,.0f}",
                         f"{r['rss'] / r['states']:,.0f}", vs])
            if "spin_flags" in r:
                notes.append(f"{config} {engine}: pan {r['spin_flags']}: {r['spin_lines']}")
            if r.get("phases"):
                ph = r["phases"]
                summed = " (seconds summed over the workers)" if r.get("workers", 1) > 1 else ""
                notes.append(f"{config} {engine}{summed}: " + ", ".join(
                    f"{k} {v:.2f} s" for k, v in ph.items() if k != "set_bytes")
                    + (f"; state set {ph['set_bytes'] / 2**20:,.0f} MB"
                       f" ({ph['set_bytes'] / r['states']:.1f} B/state)" if "set_bytes" in ph else ""))
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default="small,medium", help="upcall configurations (default small,medium)")
    p.add_argument("--engines", default="explore,vector,spin-dfs,spin-bfs",
                   help="explore, vector, vector-N (N worker processes), spin-dfs, spin-bfs "
                        "(default: explore,vector,spin-dfs,spin-bfs)")
    p.add_argument("--workdir", default="", help="where SPIN's files go (default: a temporary folder)")
    p.add_argument("--child", nargs=2, metavar=("ENGINE", "CONFIG"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    engines = args.engines.split(",")
    if any(e.startswith("spin") for e in engines):
        ensure_spin()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.workdir or tmp)
        rows, notes = bench(args.configs.split(","), engines, workdir)
    print(f"upcall model, correct design; Python {sys.version.split()[0]}; "
          f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}")
    print(tabulate(rows, headers=HEADERS, disable_numparse=True,
                   colalign=("left", "left") + ("right",) * (len(HEADERS) - 2)))
    for n in notes:
        print("  " + n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
