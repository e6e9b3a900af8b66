"""The catalogue the fault tests run the command line on: the example systems, small
liveness systems in pairs of configurations that differ only in fairness or bounds (a
lasso of one is no counterexample of the other), and a grid big enough to take a while."""
from ksecheck.checker import Action, Bool, Domain, Model, Property, Schema, Var
from ksecheck.checker.core.catalogue import Catalogue, Config, Family
from ksecheck.model.examples import FAMILIES

from tests.checker.explicit import test_liveness


def grid(n: int) -> Model:
    """Two counters ``a, b = 0..n``, each stepped on its own: (n + 1)^2 states."""
    def inc(name):
        return Action(f"inc_{name}", (), lambda s: getattr(s, name) < n,
                      lambda s: setattr(s, name, getattr(s, name) + 1))
    return Model("grid", Schema(Var("a", Domain(0, n)), Var("b", Domain(0, n))), lambda s: None,
                 [inc("a"), inc("b")], terminal=lambda s: s.a == n and s.b == n)


def spin(fair: bool) -> Model:
    """``spin`` toggles a phase for ever while ``finish`` stays enabled; ``fair`` makes finish
    weakly fair, so that a loop of spins is no longer a counterexample."""
    schema = Schema(Var("done", Bool()), Var("phase", Bool()))
    acts = [Action("spin", (), lambda s: not s.done, lambda s: setattr(s, "phase", 1 - s.phase)),
            Action("finish", (), lambda s: not s.done, lambda s: setattr(s, "done", 1))]
    prop = Property("finishes", "eventually", lambda s: s.done, "test", trigger=lambda s: True,
                    fairness=(("weak", "finish"),) if fair else ())
    return Model("spin", schema, lambda s: None, acts, [prop], terminal=lambda s: s.done)


def stuck() -> Model:
    """``go`` once, then nothing: a deadlock after one step, where a due goal never comes."""
    schema = Schema(Var("gone", Bool()))
    go = Action("go", (), lambda s: not s.gone, lambda s: setattr(s, "gone", 1))
    arrives = Property("arrives", "eventually", lambda s: False, "test", trigger=lambda s: s.gone)
    return Model("stuck", schema, lambda s: None, [go], [arrives])


def _family(name: str, build, *configs: tuple[str, dict]) -> Family:
    return Family(name, f"the {name} system", lambda consts, variants, options: build(**options),
                  [Config(c, {}, options=o) for c, o in configs])


CATALOGUE = Catalogue([
    *FAMILIES,
    _family("server", lambda strong=False: test_liveness.server(((("strong" if strong else "weak"),
                                                                  "grant"),)),
            ("server", {}), ("server-strong", {"strong": True})),
    _family("spin", lambda fair=False: spin(fair), ("spin", {}), ("spin-fair", {"fair": True})),
    _family("counter", lambda bound=False: test_liveness.counter(bound),
            ("counter", {}), ("counter-bound", {"bound": True})),
    _family("stuck", stuck, ("stuck", {})),
    Family("grid", "two counters", lambda consts, variants, options: grid(consts["n"]),
           [Config("grid", {"n": 3000}, tier="slow")]),
], default="increment")
