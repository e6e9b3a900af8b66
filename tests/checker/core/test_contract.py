"""The model contract rejects malformed models at definition; domains print and parse back."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ksecheck.checker import (NONE, Action, Array, Bool, Domain, Enum, Model, ModelError, Param, Property,
                     Ref, Schema, Set, Var, bit, has)
from ksecheck.checker.explicit.options import Options
from ksecheck.checker.explicit.search import explore

ENGINES = ("compiled", "interpreted")
"""The engines that expand one state at a time."""

from tests.checker.systems import SRC, one_var


def _inc(s):
    s.x = s.x + 1


def _always(name="p", kind="always", check=lambda s: True, source=SRC):
    return Property(name, kind, check, source)


# ---- actions and properties ---------------------------------------------------

def test_a_wellformed_model_builds():
    m = one_var(properties=[_always()])
    assert m.initial_states == ((0,),)
    assert [i.label for i in m.instances] == ["inc()"]


def test_duplicate_action_names_are_rejected():
    acts = [Action("inc", (), lambda s: True, _inc), Action("inc", (), lambda s: False, _inc)]
    with pytest.raises(ModelError, match=r"action name\(s\) \['inc'\] used twice"):
        one_var(actions=acts)


def test_duplicate_property_names_are_rejected():
    with pytest.raises(ModelError, match=r"property name\(s\) \['p'\] used twice"):
        one_var(properties=[_always("p"), _always("p")])


def test_unknown_property_kind_is_rejected_with_the_known_kinds():
    with pytest.raises(ModelError, match="unknown kind 'invariant'; use one of always, sometimes, eventually"):
        one_var(properties=[_always(kind="invariant")])


def test_property_without_source_is_rejected():
    with pytest.raises(ModelError, match=r"say where the property comes from \(source=...\)"):
        one_var(properties=[_always(source="")])


def test_always_property_without_predicate_is_rejected():
    with pytest.raises(ModelError, match="needs a predicate"):
        one_var(properties=[_always(check=None)])


def test_eventually_property_needs_a_trigger():
    with pytest.raises(ModelError, match="an eventually property needs trigger"):
        one_var(properties=[_always(kind="eventually")])


def test_eventually_fairness_must_name_known_actions():
    prop = Property("p", "eventually", lambda s: s.x == 3, SRC, trigger=lambda s: True,
                    fairness=(("weak", "nosuch"),))
    with pytest.raises(ModelError, match=r"fairness names unknown action\(s\) \['nosuch'\]"):
        one_var(properties=[prop])


def test_eventually_fairness_kind_must_be_weak_or_strong():
    prop = Property("p", "eventually", lambda s: s.x == 3, SRC, trigger=lambda s: True,
                    fairness=(("fair", "inc"),))
    with pytest.raises(ModelError, match="fairness entries are"):
        one_var(properties=[prop])


def test_trigger_on_an_always_property_is_rejected():
    prop = Property("p", "always", lambda s: True, SRC, trigger=lambda s: True)
    with pytest.raises(ModelError, match="belong to eventually properties"):
        one_var(properties=[prop])


def test_eventually_property_is_not_checked_when_liveness_is_off():
    prop = Property("p", "eventually", lambda s: s.x == 3, SRC, trigger=lambda s: True)
    r = explore(one_var(properties=[prop], check_deadlock=False), Options(liveness=False))
    assert r.get("p").verdict.value == "NOT CHECKED"


def test_action_name_must_be_an_identifier():
    with pytest.raises(ModelError, match="must be an identifier"):
        one_var(actions=[Action("go on", (), lambda s: True, _inc)])


def test_effect_returning_a_value_is_rejected_at_definition():
    def effect(s):
        s.x = 1
        return s

    with pytest.raises(ModelError, match="effect of bad returned a value"):
        one_var(actions=[Action("bad", (), lambda s: s.x == 0, effect)])


@pytest.mark.parametrize("engine", ENGINES)
def test_effect_returning_a_value_in_a_later_state_is_rejected_by_the_search(engine):
    def effect(s):
        s.x = s.x + 1
        return True if s.x == 2 else None

    m = one_var(actions=[Action("bad", (), lambda s: s.x < 3, effect)])  # fine in x = 0
    with pytest.raises(ModelError, match="effect of bad returned a value"):
        explore(m, Options(engine=engine))


def test_init_returning_a_value_is_rejected():
    with pytest.raises(ModelError, match="init must assign to the view and return None"):
        one_var(init=lambda s: 0)


def test_no_initial_state_is_rejected():
    with pytest.raises(ModelError, match="at least one initial state"):
        one_var(init=[])


@pytest.mark.parametrize("value, shown", [([1], r"\[1\]"), ("1", "'1'"), (1.0, "1.0"), (4, "4"), (-1, "-1")])
def test_assigning_a_non_int_or_out_of_domain_value_is_rejected(value, shown):
    def effect(s):
        s.x = value

    with pytest.raises(ModelError, match=rf"x = {shown}: not 0..3; an effect must assign ints"):
        one_var(actions=[Action("set", (), lambda s: True, effect)])


@pytest.mark.parametrize("engine", ENGINES)
def test_assigning_out_of_domain_in_a_later_state_is_rejected_by_the_search(engine):
    def effect(s):
        s.x = s.x + 1  # no guard: x = 3 steps to 4

    m = one_var(actions=[Action("inc", (), lambda s: True, effect)])
    with pytest.raises(ModelError, match="x = 4: not 0..3"):
        explore(m, Options(engine=engine))


@pytest.mark.parametrize("engine", ENGINES)
def test_assigning_a_list_in_a_later_state_is_rejected_by_the_search(engine):
    def effect(s):
        s.x = [1] if s.x == 2 else s.x + 1  # fine from x = 0, where the model is smoke-tested

    m = one_var(actions=[Action("inc", (), lambda s: s.x < 3, effect)])
    with pytest.raises(ModelError):
        explore(m, Options(engine=engine))


def test_init_assigning_out_of_domain_is_rejected():
    def init(s):
        s.x = 9

    with pytest.raises(ModelError, match="x = 9"):
        one_var(init=init)


def test_a_guard_that_assigns_is_rejected():
    def guard(s):
        s.x = 1
        return True

    with pytest.raises(ModelError, match="assignment to x outside an effect"):
        one_var(actions=[Action("g", (), guard, _inc)])


def test_a_guard_that_assigns_an_array_element_is_rejected():
    def guard(s, i):
        s.a[i] = 1
        return True

    def effect(s, i):
        pass

    with pytest.raises(ModelError, match=r"assignment to t0\.a outside an effect"):
        Model("m", Schema(Array("a", 2, Bool(), "t")), lambda s: None,
              [Action("g", (Param("i", Ref.to(2, "t", optional=False)),), guard, effect)])


@pytest.mark.parametrize("engine", ENGINES)
def test_a_property_that_assigns_is_rejected_by_the_search(engine):
    def check(s):
        s.x = 0
        return True

    m = one_var(properties=[_always(check=check)])
    with pytest.raises(ModelError, match="outside an effect"):
        explore(m, Options(engine=engine))


@pytest.mark.parametrize("role", ["guard", "effect"])
def test_guard_or_effect_with_the_wrong_number_of_parameters_is_rejected(role):
    fns = {"guard": lambda s, i: True, "effect": lambda s, i: None}
    fns[role] = lambda s: None  # forgets the parameter i
    act = Action("a", (Param("i", Domain(0, 1)),), fns["guard"], fns["effect"])
    with pytest.raises(ModelError, match=rf"the {role} must take the state and 1 parameter\(s\) \['i'\]"):
        one_var(actions=[act])


def test_a_parameter_that_is_not_a_param_is_rejected():
    with pytest.raises(ModelError, match=r"parameters must be Param\(name, domain\)"):
        one_var(actions=[Action("a", (Domain(0, 1),), lambda s, i: True, lambda s, i: None)])


def test_indexing_an_array_with_none_is_rejected():
    def effect(s, i):
        s.a[i] = 1

    # the guard reads a[none] when i = none: the step should have been guarded
    act = Action("a", (Param("i", Ref.to(2, "t")),), lambda s, i: s.a[i] == 0, effect)
    with pytest.raises(ModelError, match=r"a\[-1\] is out of range 0..1: guard the step so it never indexes with none"):
        Model("m", Schema(Array("a", 2, Bool(), "t")), lambda s: None, [act])


def test_duplicate_schema_variables_are_rejected():
    with pytest.raises(ModelError, match=r"state variable\(s\) \['x'\] declared twice"):
        Schema(Var("x", Bool()), Array("x", 2, Bool(), "t"))


@pytest.mark.parametrize("name", ["_x", "a b", ""])
def test_schema_variable_names_must_be_identifiers(name):
    with pytest.raises(ModelError, match="must be an identifier"):
        Schema(Var(name, Bool()))


def test_schema_domain_must_be_a_domain():
    with pytest.raises(ModelError, match="domain must be a checker.core.domains.Domain"):
        Schema(Var("x", range(3)))


def test_model_schema_must_be_a_schema():
    with pytest.raises(ModelError, match="schema must be a checker.core.schema.Schema"):
        Model("m", [Var("x", Bool())], lambda s: None, [])


def test_an_action_that_is_not_an_action_is_rejected_with_a_model_error():
    with pytest.raises(ModelError):
        one_var(actions=[("inc", (), lambda s: True, _inc)])


def test_a_property_that_is_not_a_property_is_rejected_with_a_model_error():
    with pytest.raises(ModelError):
        one_var(properties=[("p", "always", lambda s: True, SRC)])


def test_a_schema_entry_that_is_not_a_variable_is_rejected_with_a_model_error():
    with pytest.raises(ModelError):
        Schema("x")


def test_action_labels_print_optional_params_by_keyword_and_omit_none():
    act = Action("block", (Param("t", Ref.to(2, "t", optional=False)), Param("key", Ref.to(2, "u"))),
                 lambda s, t, key: True, lambda s, t, key: None)
    assert act.label((1, NONE)) == "block(t1)"
    assert act.label((1, 0)) == "block(t1, key=u0)"


def test_model_instance_lookup():
    m = one_var(actions=[Action("a", (Param("i", Domain(0, 1)),), lambda s, i: False, lambda s, i: None)])
    assert m.instance("a", (1,)).label == "a(1)"
    with pytest.raises(KeyError):
        m.instance("a", (2,))
    with pytest.raises(KeyError):
        m.instance("b", ())


# ---- domains ----------------------------------------------------------------

prefixes = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=3)


def _round_trip(dom):
    for v in dom.values():
        assert dom.parse(dom.fmt(v)) == v
    assert len({dom.fmt(v) for v in dom.values()}) == dom.size


def test_bool_round_trip():
    _round_trip(Bool())
    assert [Bool().fmt(v) for v in Bool().values()] == ["false", "true"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=6, unique=True))
def test_enum_round_trip(names):
    dom = Enum(*names)
    _round_trip(dom)
    assert [dom.fmt(v) for v in dom.values()] == names


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 12), prefixes, st.booleans())
def test_ref_round_trip(n, prefix, optional):
    dom = Ref.to(n, prefix, optional)
    _round_trip(dom)
    assert dom.count == n
    assert (NONE in dom.values()) == optional
    assert dom.contains(NONE) == optional


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 8), prefixes, st.data())
def test_set_round_trip(n, prefix, data):
    dom = Set.of(n, prefix)
    assert dom.count == n
    members = data.draw(st.sets(st.integers(0, n - 1)) if n else st.just(set()))
    mask = sum(bit(i) for i in members)
    text = dom.fmt(mask)
    assert dom.parse(text) == mask
    assert all(has(mask, i) == (i in members) for i in range(n))
    assert text == "{" + ",".join(f"{prefix}{i}" for i in sorted(members)) + "}"


@pytest.mark.parametrize("dom, text", [
    (Bool(), "yes"), (Enum("a", "b"), "c"), (Ref.to(2, "t"), "t2"), (Ref.to(2, "t", False), "none"),
    (Set.of(2, "t"), "t0"), (Set.of(2, "t"), "{t2}"), (Set.of(2, "t"), "{u0}"), (Domain(0, 3), "4"),
])
def test_parse_rejects_foreign_text(dom, text):
    with pytest.raises(ValueError):
        dom.parse(text)


def test_enum_names_must_be_distinct():
    with pytest.raises(ValueError):
        Enum("a", "a")
