"""Every pinned number of model/pinned.json is re-measured here.

Configurations of tier ``ci`` run on every test run; ``slow`` ones (medium,
race3 and the variants pinned there) are marked slow. A change that moves
a number must update the file (``ksecheck regress --update [--slow]``) and
say why in its commit message.
"""
import pytest

from ksecheck.checker import regress
from ksecheck.registry import PINNED, catalogue

CATALOGUE = catalogue()
PINNED_RUNS = regress.load(PINNED)
RUNS = list(regress.runs(CATALOGUE))


def _param(run):
    marks = [pytest.mark.slow] if run.tier == "slow" else []
    return pytest.param(run, id=run.key, marks=marks)


@pytest.mark.parametrize("run", [_param(r) for r in RUNS])
def test_pinned_numbers_still_hold(run):
    assert run.key in PINNED_RUNS, f"{run.key} is not pinned: run `ksecheck regress --update --slow`"
    assert regress.compare(PINNED_RUNS[run.key], regress.measure(CATALOGUE, run)) == []


def test_the_pinned_file_has_no_stale_runs():
    assert sorted(PINNED_RUNS) == sorted(r.key for r in RUNS)


@pytest.mark.parametrize("family,variant", [
    (f.name, v.name) for f in CATALOGUE.families.values() for v in f.variants])
def test_every_variant_breaks_what_it_must_somewhere(family, variant):
    """Each bug variant is pinned VIOLATED on each property it must break, on some configuration."""
    v = CATALOGUE.family(family).variant(variant)
    pinned = [PINNED_RUNS[f"{c}+{variant}"] for c in v.check_on]
    for prop in v.violates:
        assert any(p["verdicts"].get(prop) == "VIOLATED" and p["lengths"].get(prop, 0) > 0
                   for p in pinned), f"{variant} never breaks {prop} on {v.check_on}"


@pytest.mark.parametrize("run", [r for r in RUNS if not r.variant and r.model != "increment"],
                         ids=lambda r: r.key)
def test_correct_configurations_verify(run):
    """No invariant of a correct configuration is violated (goals may be out of reach on tiny ones)."""
    verdicts = PINNED_RUNS[run.key]["verdicts"]
    assert not [p for p, v in verdicts.items() if v == "VIOLATED"]
    assert not [p for p, v in verdicts.items() if v == "INCOMPLETE"]
