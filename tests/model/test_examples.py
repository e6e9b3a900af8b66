"""Regression data of the example systems: state counts and verdicts, checked on every engine.

The numbers for inc2 and inc2-locked are counted by hand (see test_explore.py and
the enumeration below); inc3's were recorded from the checker and are kept here
so that a change that moves them is noticed.
"""
import pytest

from ksecheck.checker.core.catalogue import Catalogue
from ksecheck.checker.explicit.options import Options
from ksecheck.checker.explicit.search import explore

ENGINES = ("compiled", "interpreted")
"""The engines that expand one state at a time."""
from ksecheck.checker.results.result import DEADLOCK
from ksecheck.model.examples import FAMILIES

H, V, R = "HOLDS", "VIOLATED", "REACHED"

# config: (states, transitions, depth, terminal states, verdicts, counterexample length)
EXPECTED = {
    "inc2": (13, 14, 4, 3, {"no_lost_update": V, "all_done": R, DEADLOCK: H}, 4),
    "inc3": (84, 111, 6, 16, {"no_lost_update": V, "all_done": R, DEADLOCK: H}, 6),
    "inc2-locked": (5, 4, 2, 2, {"no_lost_update": H, "all_done": R, DEADLOCK: H}, None),
}

# Every reachable state of inc2 as (x, t0.pc, t1.pc, t0.tmp, t1.tmp), by BFS level.
INC2_STATES = {
    (0, 0, 0, 0, 0),
    (0, 1, 0, 0, 0), (0, 0, 1, 0, 0),                                      # one read
    (0, 1, 1, 0, 0), (1, 2, 0, 0, 0), (1, 0, 2, 0, 0),                     # both read / one wrote
    (1, 2, 1, 0, 0), (1, 1, 2, 0, 0),                                      # other read before the write
    (1, 2, 1, 0, 1), (1, 1, 2, 1, 0),                                      # other read after the write
    (1, 2, 2, 0, 0), (2, 2, 2, 0, 1), (2, 2, 2, 1, 0),                     # done: lost, and both orders
}

CATALOGUE = Catalogue(FAMILIES, default="increment")


def test_every_configuration_has_expected_data():
    configs = {c.name for f in FAMILIES for c in f.configs}
    assert configs == set(EXPECTED)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("config", sorted(EXPECTED))
def test_configuration_matches_its_recorded_data(config, engine):
    family, cfg = CATALOGUE.resolve(None, config)
    states, transitions, depth, terminal, expect, cex = EXPECTED[config]
    r = explore(family.instantiate(cfg), Options(engine=engine))
    s = r.stats
    assert (s.states, s.transitions, s.depth, s.terminal_states, s.deadlock_states) == \
        (states, transitions, depth, terminal, 0)
    assert {p.name: p.verdict.value for p in r.properties} == expect
    t = r.get("no_lost_update").trace
    assert (None if t is None else len(t)) == cex
    assert s.unfired == (["write"] if cfg.options.get("locked") else [])


def test_inc2_states_enumerated_by_hand():
    model = CATALOGUE.family("increment").instantiate("inc2")
    seen, todo = set(model.initial_states), list(model.initial_states)
    while todo:  # closure under the contract's own successor function, not the explorer
        for _, nxt in model.successors(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == INC2_STATES
    assert explore(model).stats.states == len(INC2_STATES)


def test_catalogue_resolves_configs_to_their_family():
    fam, cfg = CATALOGUE.resolve(None, "inc2-locked")
    assert (fam.name, cfg.name, dict(cfg.constants)) == ("increment", "inc2-locked", {"threads": 2})
    assert CATALOGUE.resolve(None, None)[1].name == "inc2"
