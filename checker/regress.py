"""Regression data: measured numbers per configuration and variant, and their comparison.

Every configuration of tier ``ci`` or ``slow`` is explored completely and
pinned by distinct states, transitions, depth, the verdict of every
property and the length of every trace. Every variant is pinned on each
configuration of its ``check_on`` list by the verdict and counterexample
length of the properties it must violate (the search stops once all of
them are violated, so those numbers are exact and the run is short).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from .core.catalogue import Catalogue
from .errors import UsageError
from .explicit.options import Options
from .explicit.search import explore
from .results.files import read_json, whole_number, write_atomic
from .results.result import DEADLOCK, Verdict

SCHEMA = "ksecheck-pinned/1"


@dataclass(frozen=True)
class Run:
    """One pinned run: a configuration, possibly with a variant switched on."""

    model: str
    config: str
    variant: str = ""
    tier: str = "ci"

    @property
    def key(self) -> str:
        """``config`` or ``config+variant``: the run's name in the pinned file."""
        return f"{self.config}+{self.variant}" if self.variant else self.config


def runs(cat: Catalogue) -> Iterator[Run]:
    """Every run the pinned file records, configurations first."""
    for fam in cat.families.values():
        for cfg in fam.configs:
            if cfg.tier != "benchmark":
                yield Run(fam.name, cfg.name, "", cfg.tier)
    for fam in cat.families.values():
        for v in fam.variants:
            for name in v.check_on:
                yield Run(fam.name, name, v.name, fam.config(name).tier)


def measure(cat: Catalogue, run: Run) -> dict[str, Any]:
    """The numbers of one run, as stored in the pinned file."""
    fam = cat.family(run.model)
    model = fam.instantiate(run.config, [run.variant] if run.variant else [])
    if not run.variant:
        r = explore(model)
        out = {"model": run.model, "states": r.stats.states, "transitions": r.stats.transitions,
               "depth": r.stats.depth}
        props = r.properties
    else:
        expected = fam.variant(run.variant).violates
        r = explore(model, Options(stop_when=variant_stop(model, expected)))
        out = {"model": run.model, "variant": run.variant}
        if r.stats.complete:
            out.update(states=r.stats.states, transitions=r.stats.transitions, depth=r.stats.depth)
        props = [p for p in r.properties if p.name in expected]
    out["verdicts"] = {p.name: p.verdict.value for p in props}
    out["lengths"] = {p.name: len(p.trace) for p in props if p.trace is not None}
    return out


def variant_stop(model, expected: tuple[str, ...]) -> tuple[str, ...]:
    """Where a variant's search may stop: once all of ``expected`` are violated.

    Liveness needs the whole graph, so the search stops early only when
    every expected property is an invariant (or deadlock freedom).
    """
    invariants = {p.name for p in model.properties if p.kind == "always"} | {DEADLOCK}
    return tuple(expected) if set(expected) <= invariants else ()


def load(path: Path) -> dict[str, Any]:
    """The pinned file's runs, keyed by :attr:`Run.key`; UsageError naming the first field
    that is not as :func:`save` writes it."""
    data = read_json(path, f"a pinned-numbers file ({SCHEMA})", UsageError)
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise UsageError(f"{path} is not a pinned-numbers file (schema {SCHEMA})")
    runs = data.get("runs")
    if not isinstance(runs, dict):
        raise UsageError(f"{path}: \"runs\" must be an object {{run: numbers}}")
    for key, run in runs.items():
        problem = _malformed(run)
        if problem:
            raise UsageError(f"{path}: run {key!r}: {problem}")
    return runs


def _malformed(run: Any) -> str:
    """What is wrong with one pinned run, or ""."""
    if not isinstance(run, dict):
        return "must be an object {\"model\": ..., \"verdicts\": {...}, ...}"
    unknown = sorted(set(run) - set(FIELDS))
    if unknown:
        return f"unknown field {unknown[0]!r}; fields are {', '.join(FIELDS)}"
    missing = [name for name in ("model", "verdicts") if name not in run]
    if missing:
        return f"no \"{missing[0]}\""
    for name, value in run.items():
        fits, what = FIELDS[name]
        if not fits(value):
            return f"\"{name}\" must be {what}"
    return ""


def _count(value: Any) -> bool:
    return whole_number(value) and value >= 0


_VERDICTS = [v.value for v in Verdict]
FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "model": (lambda v: isinstance(v, str), "a name"),
    "variant": (lambda v: isinstance(v, str), "a name"),
    "states": (_count, "a whole number"),
    "transitions": (_count, "a whole number"),
    "depth": (_count, "a whole number"),
    "verdicts": (lambda v: isinstance(v, dict) and all(x in _VERDICTS for x in v.values()),
                 "an object {property: verdict}, each verdict one of " + ", ".join(_VERDICTS)),
    "lengths": (lambda v: isinstance(v, dict) and all(_count(x) for x in v.values()),
                "an object {property: whole number}")}
"""The fields of a pinned run: a test of each one's value and what it must be."""


def save(path: Path, pinned: dict[str, Any]) -> None:
    """Write the pinned numbers, sorted so that diffs are readable; all at once, so that
    the old file stays whole if writing fails."""
    write_atomic(path, json.dumps({"schema": SCHEMA, "runs": pinned}, indent=1,
                                  sort_keys=True) + "\n")


def compare(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """One line per number that moved: ``states: 1234 -> 1240``."""
    lines = []
    for key in sorted(set(expected) | set(got)):
        a, b = expected.get(key), got.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            lines += [f"{key}.{line}" for line in compare(a, b)]
        elif a != b:
            lines.append(f"{key}: {_show(a)} -> {_show(b)}")
    return lines


def _show(value) -> str:
    return "(absent)" if value is None else str(value)


def check(cat: Catalogue, pinned: dict[str, Any], selected: list[Run],
          on_run: Callable[[Run, list[str]], None] | None = None) -> dict[str, list[str]]:
    """Re-measure ``selected`` runs; ``{key: differences}`` for those that moved."""
    moved = {}
    for run in selected:
        if run.key not in pinned:
            diff = ["not pinned yet (run `ksecheck regress --update`)"]
        else:
            diff = compare(pinned[run.key], measure(cat, run))
        if on_run:
            on_run(run, diff)
        if diff:
            moved[run.key] = diff
    return moved
