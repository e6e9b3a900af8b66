"""ksecheck's general model checker; this package exports the contract a model is written against.

Start with :mod:`checker.core.contract` (what a model gives), then
:mod:`checker.explicit.search` (the search) and :mod:`checker.results.result`
(what every engine returns); ARCHITECTURE.md maps the rest.
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
