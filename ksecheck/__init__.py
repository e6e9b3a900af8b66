"""ksecheck: an explicit-state and symbolic model checker, and the KSE protocol it checks.

This module is the Python API. A model is a :class:`Model`: a :class:`Schema`
of state variables over finite domains, initial values, named
:class:`Action` s (a guard and an effect over a view of the state) and
:class:`Property` s. Check it breadth-first with :func:`explore` (one
:class:`Options` object shapes the search), or with the Z3 engines
:func:`bmc`, :func:`pdr`, :func:`induction`, :func:`kinduction` and
:func:`prove`; every one returns a :class:`Result`, which :func:`render`
prints::

    import ksecheck as k

    schema = k.Schema(k.Var("x", k.Domain(0, 3)))
    step = k.Action("inc", (), lambda s: s.x < 3, lambda s: setattr(s, "x", s.x + 1))
    never_3 = k.Property("below_three", "always", lambda s: s.x < 3, source="example")
    model = k.Model("count", schema, init=lambda s: None, actions=[step], properties=[never_3])
    result = k.explore(model)
    assert result.get("below_three").verdict is k.Verdict.VIOLATED
    print(k.render(result))

The checker itself is :mod:`ksecheck.checker` (see ARCHITECTURE.md); the KSE
models, their properties and the report are :mod:`ksecheck.model`,
:mod:`ksecheck.properties` and :mod:`ksecheck.reports`; the command line is
:mod:`ksecheck.cli`.
"""
from .checker import (KINDS, NONE, Action, Array, Bool, CheckerBug, Domain, Enum, Instance,
                      KsecheckError, Model, ModelError, Param, Property, Ref, Schema, Set,
                      TraceError, UsageError, Var, bit, has)
from .checker.core.catalogue import Catalogue, Config, Family, Variant
from .checker.explicit.options import Limits, Options, Progress
from .checker.explicit.search import explore
from .checker.explicit.symmetry import Entity, Symmetry
from .checker.results.result import DEADLOCK, PropertyResult, Result, Verdict
from .checker.results.text import render
from .checker.results.trace import Trace
from .checker.symbolic.bmc import bmc
from .checker.symbolic.induction import induction, kinduction, prove
from .checker.symbolic.pdr import pdr

__all__ = [
    "KINDS", "NONE", "Action", "Array", "Bool", "CheckerBug", "Domain", "Enum", "Instance",
    "KsecheckError", "Model", "ModelError", "Param", "Property", "Ref", "Schema", "Set",
    "TraceError", "UsageError", "Var", "bit", "has",
    "Catalogue", "Config", "Family", "Variant",
    "Limits", "Options", "Progress", "explore", "Entity", "Symmetry",
    "DEADLOCK", "PropertyResult", "Result", "Verdict", "render", "Trace",
    "bmc", "induction", "kinduction", "prove", "pdr",
]
