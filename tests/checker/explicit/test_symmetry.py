"""Symmetry reduction: sound for the upcall model, and the same verdicts and trace lengths.

Soundness is checked state by state: on every reachable state of ``tiny``
(every bug variant too) and on a sample of ``small``'s, for random elements
of the group, the canonical form is the same for the whole orbit, the
properties declared invariant are, and the successors of a permuted state
are, orbit for orbit, those of the state.
"""
import random

import pytest

from ksecheck.checker import ModelError
from ksecheck.checker.core.compile import compile_successors
from ksecheck.checker.explicit.options import Options
from ksecheck.checker.explicit.pack import Layout
from ksecheck.checker.explicit.search import explore
from ksecheck.checker.results.result import Verdict
from ksecheck.checker.explicit.symmetry import Entity, Symmetry
from ksecheck.registry import catalogue
from ksecheck.model.upcall import VARIANTS
from ksecheck.model.upcall_symmetry import symmetry

FAMILY = catalogue().family("upcall")


def setup(config, *variants):
    model = FAMILY.instantiate(config, list(variants))
    sym = symmetry(FAMILY.config(config).constants)
    layout = Layout(model.schema)
    canon = sym.canonicaliser(model, layout)
    return model, sym, lambda states: [tuple(x) for x in canon(layout.pack_states(states)).tolist()]


def reachable(model):
    succ = compile_successors(model)[0]
    seen = dict.fromkeys(model.initial_states)
    todo = list(seen)
    while todo:
        for _, nxt in succ(todo.pop()):
            if nxt not in seen:
                seen[nxt] = None
                todo.append(nxt)
    return list(seen)


def check_orbits(model, sym, canon, states, rng, per_state=2):
    """For each state and ``per_state`` random group elements: same canonical form, same
    invariant properties, and successors in the same orbits (canonicalised in batches)."""
    group = sym.group()
    props = [p for p in model.properties if p.kind != "eventually" and p.name not in sym.not_invariant]
    preds = [p.check for p in props] + [model.terminal, model.at_bound]
    view = model.schema.view
    succ = compile_successors(model)[0]
    pairs = [(s, sym.permute(model, s, g)) for s in states for g in rng.sample(group, per_state)]
    originals, permuted = [s for s, _ in pairs], [p for _, p in pairs]
    assert canon(permuted) == canon(originals)
    for s, p in pairs:
        assert [bool(f(view(p))) for f in preds] == [bool(f(view(s))) for f in preds], (s, p)
    # successors: canonicalise them all at once, then compare orbit lists state by state
    outs = [[x for _, x in succ(s)] for s in originals] + [[x for _, x in succ(p)] for p in permuted]
    flat = canon([x for out in outs for x in out]) if any(outs) else []
    groups, i = [], 0
    for out in outs:
        groups.append(sorted(flat[i:i + len(out)]))
        i += len(out)
    half = len(pairs)
    assert groups[:half] == groups[half:]


@pytest.mark.parametrize("variant", ("",) + VARIANTS)
def test_tiny_is_symmetric_state_by_state(variant):
    model, sym, canon = setup("tiny", *([variant] if variant else []))
    check_orbits(model, sym, canon, reachable(model), random.Random(1), per_state=1 if variant else 3)


def test_small_is_symmetric_on_a_sample_of_states():
    model, sym, canon = setup("small")
    states = reachable(model)
    check_orbits(model, sym, canon, random.Random(2).sample(states, 250), random.Random(3))


def test_permute_moves_arrays_and_renames_references():
    model, sym, _ = setup("small")
    s0 = model.initial_states[0]
    moved = sym.permute(model, s0, {"t": (2, 0, 1), "u": (1, 0), "m": (1, 0)})
    r = model.schema.readable(moved)
    assert r["t2.loc"] == "USER" and r["t2.upcall"] == "u1"
    assert r["u1.linked"] == "true" and r["u1.owner"] == "t2" and r["u0.linked"] == "false"
    assert r["runq"] == "{m0,m1}"


# ---- verdicts and counterexample lengths are unchanged -----------------------------------

def outcome(result, skip):
    return {p.name: (p.verdict, None if p.trace is None else len(p.trace))
            for p in result.properties if p.name not in skip and p.kind != "eventually"}


@pytest.mark.parametrize("config,variant", [("tiny", v) for v in ("",) + VARIANTS if v != "no_limit_recheck"]
                         + [("small", "owner_exits_at_userret")])
def test_same_verdicts_and_trace_lengths(config, variant):
    model, sym, _ = setup(config, *([variant] if variant else []))
    plain = explore(model, Options(engine="vector", liveness=False))
    reduced = explore(model, Options(engine="vector", symmetry=sym))
    assert reduced.stats.engine == "vector+symmetry"
    assert outcome(reduced, sym.not_invariant) == outcome(plain, sym.not_invariant)
    for name in sym.not_invariant:
        assert reduced.get(name).verdict is Verdict.NOT_CHECKED
    assert reduced.get("completed_delivered").verdict is Verdict.NOT_CHECKED
    for p in reduced.properties:  # concrete traces, from the model's own initial state
        if p.trace is not None:
            assert p.trace.initial == model.initial_states[0]
            p.trace.validate()


@pytest.mark.slow
@pytest.mark.parametrize("variant", ("",) + VARIANTS)
def test_same_verdicts_and_trace_lengths_on_small_and_medium(variant):
    """(Every variant on small and medium: ten minutes.)"""
    for config in ("small", "medium"):
        model, sym, _ = setup(config, *([variant] if variant else []))
        plain, reduced = explore(model, Options(engine="vector", liveness=False)), explore(model, Options(engine="vector", symmetry=sym))
        assert outcome(reduced, sym.not_invariant) == outcome(plain, sym.not_invariant)


@pytest.mark.parametrize("config,states", [("tiny", 180), ("small", 7823)])
def test_reduced_state_counts(config, states):
    model, sym, _ = setup(config)
    assert explore(model, Options(engine="vector", symmetry=sym)).stats.states == states


# ---- declarations that do not fit the model ------------------------------------------------

@pytest.mark.parametrize("entity,message", [
    (Entity("t", 3, arrays=("nope",)), "no variable 'nope'"),
    (Entity("t", 4, arrays=("loc",)), "not an array of 4 t slots"),
    (Entity("u", 2, refs=("loc",)), "does not hold references to u slots"),
    (Entity("m", 2, sets=("cur",)), "does not hold sets of m slots"),
])
def test_a_declaration_that_does_not_fit_is_rejected(entity, message):
    model = FAMILY.instantiate("small")
    with pytest.raises(ModelError, match=message):
        explore(model, Options(engine="vector", symmetry=Symmetry((entity,))))
