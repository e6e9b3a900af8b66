"""Benchmark of the explicit-state explorer: distinct states per second and bytes per state.

The system is ``model.examples.increment`` with N threads (N = --sizes), explored
to completion by :func:`checker.explicit.search.explore` with each engine (compiled and
interpreted) side by side. Every measurement runs in a fresh Python process so
that one run's heap does not flatter the next one's memory figures.

Memory is measured twice, in separate runs (tracing slows the search):

* ``RSS B/state``: growth of the process's peak resident set size
  (``getrusage().ru_maxrss``) over the search, divided by the distinct states.
  What the operating system had to give, allocator slack included; coarse
  (pages, and counters the kernel updates lazily), so only meaningful when
  the search needs many megabytes.
* ``heap B/state``: peak of Python's traced allocations (``tracemalloc``) during
  the search, divided by the distinct states. What Python objects really used.

Run: ``python benchmarks/explorer.py [--sizes 3,4,5,6] [--engines compiled,interpreted] [--repeat 3]``.
Not a test: timings on a shared machine are noisy; compare the columns of one run.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc

from tabulate import tabulate


def _peak_rss() -> int:
    """The process's peak resident set size so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(threads: int, engine: str, traced: bool) -> dict:
    """Explore increment(threads) once in this process; return counts, times and memory."""
    from ksecheck.checker.explicit.options import Options
    from ksecheck.checker.explicit.search import explore
    from ksecheck.model.examples import increment

    model = increment.build(threads)
    if traced:
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
    before = _peak_rss()
    wall = time.perf_counter()
    result = explore(model, Options(engine=engine))
    wall = time.perf_counter() - wall
    out = {"states": result.stats.states, "transitions": result.stats.transitions,
           "depth": result.stats.depth, "search_s": result.stats.seconds, "wall_s": wall,
           "rss_growth": _peak_rss() - before}
    if traced:
        out["heap_peak"] = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    return out


def _child(threads: int, engine: str, traced: bool) -> dict:
    """:func:`measure` in a fresh interpreter."""
    cmd = [sys.executable, __file__, "--child", str(threads), engine] + (["--traced"] if traced else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def bench(sizes: list[int], engines: list[str], repeat: int) -> list[list]:
    """One table row per (size, engine): best of ``repeat`` timed runs, one traced run."""
    rows = []
    for n in sizes:
        rates, where = {}, {}
        for engine in engines:
            runs = [_child(n, engine, traced=False) for _ in range(repeat)]
            best = min(runs, key=lambda r: r["search_s"])
            heap = _child(n, engine, traced=True)["heap_peak"]
            rss = min(r["rss_growth"] for r in runs)
            rate = best["states"] / best["search_s"]
            rates[engine], where[engine] = rate, len(rows)
            rows.append([n, engine, best["states"], best["transitions"], best["depth"],
                         f"{best['search_s']:.3f}", f"{rate:,.0f}", f"{best['wall_s']:.3f}",
                         f"{rss / best['states']:,.0f}", f"{heap / best['states']:,.0f}"])
        if "compiled" in rates and "interpreted" in rates:
            rows[where["compiled"]][1] += f" ({rates['compiled'] / rates['interpreted']:.1f}x)"
    return rows


HEADERS = ["threads", "engine", "states", "transitions", "depth", "search s", "states/s",
           "wall s", "RSS B/state", "heap B/state"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="3,4,5,6", help="thread counts, comma separated (default 3,4,5,6)")
    p.add_argument("--engines", default="compiled,interpreted", help="engines to compare")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per cell; the fastest is shown")
    p.add_argument("--child", nargs=2, metavar=("THREADS", "ENGINE"), help=argparse.SUPPRESS)
    p.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(measure(int(args.child[0]), args.child[1], args.traced)))
        return 0
    sizes = [int(x) for x in args.sizes.split(",")]
    engines = args.engines.split(",")
    print(f"increment, N threads; best of {args.repeat}; Python {sys.version.split()[0]}")
    print(tabulate(bench(sizes, engines, args.repeat), headers=HEADERS, disable_numparse=True,
                   colalign=("right", "left") + ("right",) * 8))
    print("\n(Nx) after an engine: its search speed over the interpreted engine's. "
          "search s: the BFS loop (stats.seconds); wall s adds compiling, verdicts and traces.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
