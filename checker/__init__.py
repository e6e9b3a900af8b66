"""ksecheck's general model checker: contract, explicit search, traces.

Start with :mod:`checker.contract` (what a model gives), then
:mod:`checker.explore` (breadth-first search) and :mod:`checker.trace`.
"""
from .core.contract import KINDS, Action, Instance, Model, Param, Property
from .core.domains import NONE, Bool, Domain, Enum, Ref, Set, bit, has
from .errors import CheckerBug, KsecheckError, ModelError, TraceError, UsageError
from .core.schema import Array, Schema, Var

__all__ = [
    "KINDS", "Action", "Instance", "Model", "Param", "Property",
    "NONE", "Bool", "Domain", "Enum", "Ref", "Set", "bit", "has",
    "CheckerBug", "KsecheckError", "ModelError", "TraceError", "UsageError",
    "Array", "Schema", "Var",
]
