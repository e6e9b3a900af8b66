"""Symmetry reduction on the upcall configurations: representatives, seconds, memory.

For each configuration (``--configs``) the vector engine explores the
correct ``upcall`` model with the symmetry of ``model/upcall_symmetry.py``
(threads, upcalls and mailboxes interchangeable), and, for the
configurations in ``--full``, also without it, each run in its own
process, once per number of worker processes in ``--workers`` (the
vector engine over several processes, :mod:`checker.explicit.parallel`; same
counts, so only the seconds and the memory differ; peak RSS is then the
parent's plus each worker's growth after it was forked). Rows: distinct states (representatives with reduction),
transitions, depth (of the quotient graph: smaller, since a state's orbit
is reached by its closest member), search seconds, states per second, peak
RSS, whether every invariant held, and the reduction factor.

Run from the repository root::

    python benchmarks/symmetry.py                                   # tiny..huge, full for tiny..medium
    python benchmarks/symmetry.py --configs large --full large
    python benchmarks/symmetry.py --configs large,huge --full "" --workers 1,2

Not a test: timings on a shared machine are noisy; compare the rows of one run.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.side_by_side import run_measured  # noqa: E402


def child(config: str, reduce: bool, workers: int) -> dict:
    from ksecheck.checker.explicit.options import Options
    from ksecheck.checker.explicit.search import explore
    from ksecheck.registry import catalogue
    from ksecheck.model.upcall_symmetry import symmetry

    fam = catalogue().family("upcall")
    sym = symmetry(fam.config(config).constants) if reduce else None
    r = explore(fam.instantiate(config), Options(engine="vector", liveness=False, symmetry=sym,
                                                workers=workers))
    broken = [p.name for p in r.properties if p.kind == "always" and p.verdict.value != "HOLDS"]
    return {"states": r.stats.states, "transitions": r.stats.transitions, "depth": r.stats.depth,
            "search_s": r.stats.seconds, "invariants": "HOLD" if not broken else f"{broken} fail",
            "goals": sum(p.verdict.value == "REACHED" for p in r.properties),
            "not_checked": sum(p.verdict.value == "NOT CHECKED" for p in r.properties),
            "rss_all": r.stats.peak_rss_bytes}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default="tiny,small,medium,large,huge")
    p.add_argument("--full", default="tiny,small,medium", help="configurations also run unreduced")
    p.add_argument("--workers", default="1", help="worker processes, one run per number (default 1)")
    p.add_argument("--child", nargs=3, metavar=("CONFIG", "REDUCE", "WORKERS"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1] == "1", int(args.child[2]))))
        return 0
    rows = []
    for config in args.configs.split(","):
        runs = {}
        for reduce in ([False] if config in args.full.split(",") else []) + [True]:
            for workers in args.workers.split(","):
                cmd = [sys.executable, __file__, "--child", config, str(int(reduce)), workers]
                out, wall, rss = run_measured(cmd)
                r = json.loads(out.strip().splitlines()[-1])
                rss = max(rss, r["rss_all"])  # wait4 gives the largest process; workers add up
                runs.setdefault(reduce, r)
                factor = (f"{runs[False]['states'] / r['states']:.0f}x" if reduce and False in runs else "")
                rows.append([config, "symmetry" if reduce else "none", workers, f"{r['states']:,}",
                             f"{r['transitions']:,}", r["depth"], f"{r['search_s']:.1f}",
                             f"{r['states'] / max(r['search_s'], 1e-3):,.0f}", f"{wall:.1f}",
                             f"{rss / 2**20:,.0f}", r["invariants"], r["goals"], r["not_checked"],
                             factor])
                print(f"  {config} {'symmetry' if reduce else 'none'} {workers} worker(s): "
                      f"{r['states']:,} states", file=sys.stderr, flush=True)
    print(f"upcall model, correct design, vector engine; load average {os.getloadavg()[0]:.1f}")
    print(tabulate(rows, headers=["config", "reduction", "workers", "states", "transitions", "depth",
                                  "search s", "states/s", "wall s", "peak RSS MB", "invariants",
                                  "goals reached", "not checked", "reduction"],
                   disable_numparse=True, colalign=("left", "left") + ("right",) * 12))
    return 0


if __name__ == "__main__":
    sys.exit(main())
