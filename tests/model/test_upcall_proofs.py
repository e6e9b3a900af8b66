"""Proofs of the upcall design's invariants, and the strengthening lemmas they rest on.

The lemmas of :mod:`properties.upcall_lemmas` must be true (they hold on
every reachable state of ``tiny`` and ``small``, checked by explicit
search) and sufficient (with them, every invariant and deadlock freedom is
proved on ``small`` and ``medium`` by induction, without enumerating
states); and each one is needed (without it, a CTI comes back).
"""
from __future__ import annotations

import argparse
import dataclasses
import json

import pytest

from ksecheck import registry
from ksecheck.cli import prove as prove_cli
from ksecheck.checker.errors import UsageError
from ksecheck.checker.explicit.search import explore
from ksecheck.checker.symbolic.induction import induction, prove
from ksecheck.checker.symbolic.goals import goals
from ksecheck.checker.results.result import DEADLOCK, Verdict
from ksecheck.properties.upcall_lemmas import lemmas


def _lemmas(config: str):
    return lemmas(registry.UPCALL.config(config).constants)


@pytest.mark.parametrize("config", ["tiny", "small"])
def test_every_lemma_holds_on_every_reachable_state(config):
    model = registry.UPCALL.instantiate(config)
    checked = dataclasses.replace(model, properties=tuple(_lemmas(config)))
    result = explore(checked)
    assert result.stats.complete
    assert {p.name: p.verdict for p in result.properties if p.name != DEADLOCK} == {
        lemma.name: Verdict.HOLDS for lemma in _lemmas(config)}


def test_every_lemma_is_documented():
    for lemma in _lemmas("small"):
        assert lemma.kind == "always" and lemma.name.startswith("lemma_")
        assert lemma.doc and lemma.source


def _assert_proved(result, config):
    model = registry.UPCALL.instantiate(config)
    expected = [p.name for p in model.properties if p.kind == "always"] + [DEADLOCK]
    expected += [lemma.name for lemma in _lemmas(config)]
    assert [g.name for g in result.properties] == expected
    assert all(g.verdict is Verdict.HOLDS for g in result.properties), [
        (g.name, g.note) for g in result.properties if g.verdict is not Verdict.HOLDS]
    assert all(q.verdict is Verdict.HOLDS for q in result.queries)
    assert result.outcome is Verdict.HOLDS


def test_the_complete_proof_on_small():
    model = registry.UPCALL.instantiate("small")
    result = prove(model, lemmas=_lemmas("small"))
    _assert_proved(result, "small")
    # one init query per goal, one query per (action, goal): 21 actions, 11 + 19 goals
    assert len(result.queries) == 22 * len(result.properties)


@pytest.mark.slow
def test_the_complete_proof_on_medium():
    model = registry.UPCALL.instantiate("medium")
    _assert_proved(prove(model, lemmas=_lemmas("medium")), "medium")


def test_without_the_lemmas_the_invariants_are_not_inductive():
    model = registry.UPCALL.instantiate("tiny")
    result = induction(model)
    assert len(result.ctis) > 5
    assert all(g.verdict is Verdict.UNKNOWN for g in result.properties)  # unproved, not refuted
    for cti in result.ctis[:5]:  # each is concrete: checked against the model, not only Z3
        view = model.schema.view
        assert all(model.property(p.name).check(view(cti.pre))
                   for p in model.properties if p.kind == "always")
        assert model.apply(cti.step, cti.pre) == cti.post


def test_removing_a_lemma_brings_its_cti_back():
    """lemma_a_upcall_stays is the EDEADLK count that kse_exit's check keeps."""
    model = registry.UPCALL.instantiate("small")
    rest = [lemma for lemma in _lemmas("small") if lemma.name != "lemma_a_upcall_stays"]
    result = induction(model, lemmas=rest)
    assert [q.name for q in result.queries if q.verdict is not Verdict.HOLDS] == [
        "exit_finish/upcalls_while_threads"]
    q = result.query("exit_finish/upcalls_while_threads")
    assert q.verdict is Verdict.VIOLATED
    assert q.cti.step.action.name == "exit_finish"
    assert model.property("upcalls_while_threads").check(model.schema.view(q.cti.pre))
    assert not model.property("upcalls_while_threads").check(model.schema.view(q.cti.post))


@pytest.mark.slow
@pytest.mark.parametrize("dropped", [lemma.name for lemma in _lemmas("small")])
def test_every_lemma_is_needed(dropped):
    model = registry.UPCALL.instantiate("small")
    rest = [lemma for lemma in _lemmas("small") if lemma.name != dropped]
    assert prove(model, lemmas=rest).ctis


def test_a_bug_variant_is_not_proved():
    model = registry.UPCALL.instantiate("tiny", ["keep_td_mailbox"])
    result = prove(model, goals(model, ["mailbox_in_one_place"]), _lemmas("tiny"))
    assert result.get("mailbox_in_one_place").verdict is not Verdict.HOLDS


# ---- the prove subcommand -------------------------------------------------------------------

def _run(argv: list[str], capsys) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="ksecheck")
    prove_cli.add_parser(parser.add_subparsers(dest="command"))
    code = prove_cli.run(parser.parse_args(["prove", *argv]))
    return code, capsys.readouterr().out


def test_cli_proves_tiny(capsys):
    code, out = _run(["--config", "tiny", "--mode", "proof"], capsys)
    assert code == 0
    assert "lemma_a_upcall_stays (lemma)" in out and "Result: HOLDS" in out


def test_cli_bmc_prints_a_replayed_counterexample(capsys):
    code, out = _run(["--config", "tiny", "--variant", "keep_td_mailbox", "--mode", "bmc",
                      "--depth", "4", "--property", "mailbox_in_one_place"], capsys)
    assert code == 1
    assert "Counterexample to mailbox_in_one_place (3 steps)" in out


def test_cli_prints_a_cti_as_a_diffed_step(capsys):
    code, out = _run(["--config", "tiny", "--mode", "induction", "--no-lemmas",
                      "--property", "upcalls_while_threads"], capsys)
    assert code == 1
    assert "Counterexample to induction of upcalls_while_threads (exit_finish/" in out
    assert "a state satisfying every invariant and lemma:" in out
    assert "1. exit_finish(t" in out and " -> " in out


def test_cli_json(capsys):
    code, out = _run(["--config", "tiny", "--mode", "kinduction", "-k", "2", "--no-lemmas",
                      "--property", "no_panic", "--json"], capsys)
    data = json.loads(out)
    assert data["schema"] == "ksecheck-proof/1" and data["mode"] == "kinduction"
    assert data["goals"][0]["name"] == "no_panic"
    assert all(isinstance(q["seconds"], float) for q in data["queries"])
    assert code == (1 if any(q["verdict"] == "VIOLATED" for q in data["queries"]) else 0)


def test_cli_timeout_is_unknown(capsys):
    code, out = _run(["--config", "tiny", "--mode", "induction", "--no-lemmas", "--timeout",
                      "0.001"], capsys)
    assert code in (1, 3)  # some query may still find a CTI in 1 ms; none may claim HOLDS
    assert "UNKNOWN" in out and "Result: HOLDS" not in out


def test_cli_rejects_bad_input(capsys):
    with pytest.raises(UsageError):
        _run(["--config", "tiny", "--property", "no_such_invariant"], capsys)
    with pytest.raises(UsageError):
        _run(["--config", "no_such_config"], capsys)
