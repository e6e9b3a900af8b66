"""Bounded model checking over the circuit and the relational unrolling, side by side.

For each case (``CONFIG+VARIANT:GOAL`` in ``--cases``) BMC looks for the
goal's shortest counterexample from the initial state, once per unrolling
of :data:`checker.symbolic.unroll.UNROLLINGS` in ``--unrollings``, up to the length
pinned in ``model/pinned.json``. Rows: the verdict and length found, the
solver seconds summed over every depth, the slowest query's seconds, and
the ratio to the first unrolling. ``--timeout`` bounds each query (a
query that runs out makes the row UNKNOWN, never a length); ``--depths``
also prints the seconds of every depth's query.

Run from the repository root::

    python benchmarks/bmc.py
    python benchmarks/bmc.py --cases medium+no_exiting_count:upcalls_while_threads \\
        --unrollings circuit --depths

Not a test: timings on a shared machine are noisy; compare the rows of one run.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_CASES = ",".join([
    "tiny+no_wake_parked:deadlock_free",
    "race3+no_limit_recheck:upcall_limit",
    "exit2+no_exiting_count:upcalls_while_threads",
    "limits+no_maxthreads_wakeup:deadlock_free",
])


def parse_case(text: str) -> tuple[str, str, str]:
    run, sep, goal = text.partition(":")
    config, plus, variant = run.partition("+")
    if not (sep and plus and config and variant and goal):
        raise SystemExit(f"a case is CONFIG+VARIANT:GOAL, not {text!r}")
    return config, variant, goal


def measure(config: str, variant: str, goal: str, unrolling: str, depth: int,
            timeout: float | None) -> dict:
    from ksecheck.checker.symbolic.bmc import bmc
    from ksecheck.checker.symbolic.goals import goals
    from ksecheck.registry import catalogue

    family, cfg = catalogue().resolve(None, config)
    model = family.instantiate(cfg, [variant])
    start = time.perf_counter()
    result = bmc(model, depth, goals(model, [goal]), timeout=timeout, unrolling=unrolling)
    wall = time.perf_counter() - start
    r = result.get(goal)
    per_depth = [q.seconds for q in result.queries if q.name.endswith(f"/{goal}")]
    return {"verdict": r.verdict.value, "length": len(r.trace) if r.trace else None,
            "solver_s": sum(q.seconds for q in result.queries), "wall_s": wall,
            "slowest_s": max(per_depth, default=0.0), "per_depth": per_depth}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default=DEFAULT_CASES, help="comma-separated CONFIG+VARIANT:GOAL")
    p.add_argument("--unrollings", default="circuit,relation")
    p.add_argument("--timeout", type=float, default=None, help="seconds per solver query")
    p.add_argument("--depths", action="store_true", help="also print each depth's query seconds")
    args = p.parse_args(argv)
    from ksecheck.registry import PINNED

    pinned = json.loads(PINNED.read_text())["runs"]
    rows = []
    for text in args.cases.split(","):
        config, variant, goal = parse_case(text)
        length = pinned.get(f"{config}+{variant}", {}).get("lengths", {}).get(goal)
        if length is None:
            raise SystemExit(f"{text}: no pinned length in {PINNED}")
        first = None
        for unrolling in args.unrollings.split(","):
            m = measure(config, variant, goal, unrolling, length, args.timeout)
            first = first or m["solver_s"]
            rows.append([text, unrolling, m["verdict"],
                         m["length"] if m["length"] is not None else "-", length,
                         f"{m['solver_s']:.1f}", f"{m['slowest_s']:.1f}", f"{m['wall_s']:.1f}",
                         f"{m['solver_s'] / first:.2f}x" if first else "-"])
            if args.depths:
                print(f"{text} {unrolling}: " + " ".join(f"{k}:{s:.2f}" for k, s in
                                                          enumerate(m["per_depth"])), flush=True)
    print(tabulate(rows, headers=["case", "unrolling", "verdict", "length", "BFS", "solver s",
                                  "slowest query s", "wall s", "solver time vs first"],
                   tablefmt="github"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
