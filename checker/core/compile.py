"""A successor function compiled to Python source from the model's traced paths.

:func:`compile_successors` traces every action instance with
:mod:`checker.core.paths`, walks each instance's decision tree
(:mod:`checker.core.decisions`) into nested ``if``/``else``, and generates
one Python function ``successors(s) -> [(instance, next)]`` over plain state
tuples. It computes exactly what the interpreted model computes (tests
compare the two on every reachable state of small configurations) without
the cost of views and function calls.
"""
from __future__ import annotations

from typing import Callable

from ..errors import ModelError, Unsupported
from .contract import Model
from .decisions import Leaf, Node, instance_tree, tree
from .expr import Const, Expr, Infix, Ite, Slot, emit, negate
from .paths import Path, predicate_paths, trace_instance

Successors = Callable[[tuple], list]


class Python(Infix):
    """Expressions as Python source over the state tuple ``s``."""

    def slot(self, e: Slot) -> str:
        return f"s[{e.index}]"

    def ite(self, e: Ite, cond: str, then: str, other: str) -> str:
        return f"({then} if {cond} else {other})"


def python_source() -> Callable[[Expr], str]:
    """``py(e)``: Python source for an expression over the state tuple ``s`` (each shared
    subexpression written once per ``python_source()``)."""
    emitter, memo = Python(), {}
    return lambda e: emit(e, emitter, memo)


def nested_ifs(node: Node | None, leaf: Callable[[object, str], None], depth: int,
               out: list[str], py: Callable[[Expr], str]) -> None:
    """Nested ifs for a decision tree (conditions written by ``py``); ``leaf(value, pad)``
    emits the code at each leaf."""
    pad = "    " * depth
    if node is None:
        return
    if isinstance(node, Leaf):
        leaf(node.value, pad)
        return
    if node.yes is None:
        out.append(f"{pad}if {py(negate(node.cond))}:")
        nested_ifs(node.no, leaf, depth + 1, out, py)
        return
    out.append(f"{pad}if {py(node.cond)}:")
    nested_ifs(node.yes, leaf, depth + 1, out, py)
    if node.no is not None:
        out.append(f"{pad}else:")
        nested_ifs(node.no, leaf, depth + 1, out, py)


def _within(inner, outer) -> bool:
    return outer.lo <= inner.lo and inner.hi <= outer.hi


def source(model: Model) -> tuple[str, list[str], list[int]]:
    """The generated source of ``successors``, its error messages, and the computed slots."""
    lines = ["def successors(s):", "    out = []"]
    py = python_source()
    errors: list[str] = []
    computed: set[int] = set()
    domains = model.schema.slot_domains
    for k, inst in enumerate(model.instances):
        paths = trace_instance(model, inst)
        for p in paths:
            for i, e in enumerate(p.post or ()):
                if (not isinstance(e, (Const, Slot))
                        or (isinstance(e, Const) and not domains[i].contains(e.value))
                        or (isinstance(e, Slot) and not _within(domains[e.index], domains[i]))):
                    computed.add(i)
        lines.append(f"    # {inst.label}")

        def leaf(path: Path, pad: str, k=k) -> None:
            if path.post is None:
                errors.append(path.error)
                lines.append(f"{pad}raise ModelError(ERRORS[{len(errors) - 1}])")
            else:
                lines.append(f"{pad}out.append(({k}, ({', '.join(py(e) for e in path.post)},)))")
        nested_ifs(instance_tree(paths), leaf, 1, lines, py)
    lines.append("    return out")
    return "\n".join(lines) + "\n", errors, sorted(computed)


def compile_successors(model: Model) -> tuple[Successors, Callable[[tuple], None]]:
    """``(successors, check)`` for ``model``.

    ``successors(state) -> [(instance index, next state)]``; ``check(state)``
    raises ModelError if a slot that some step computes left its domain (the
    interpreted model checks every assignment; the compiled one checks each
    new state).
    """
    text, errors, computed = source(model)
    namespace = {"ModelError": ModelError, "ERRORS": errors}
    exec(compile(text, f"<compiled successors of {model.name}>", "exec"), namespace)
    schema = model.schema

    def check(state: tuple) -> None:
        for i in computed:
            dom = schema.slot_domains[i]
            if not dom.lo <= state[i] <= dom.hi:
                raise ModelError(f"{schema.slot_names[i]} = {state[i]}: not {dom.describe()}; "
                                 "an effect must assign values of the variable's domain")
    return namespace["successors"], check


def compile_predicate(model: Model, predicate, what: str = "predicate") -> Callable[[tuple], bool]:
    """``predicate`` as a function of the state tuple, compiled from its traced paths.

    Falls back to calling ``predicate`` on a view when the tracer cannot follow it.
    """
    try:
        paths = predicate_paths(model, predicate, what)
    except Unsupported:
        view = model.schema.view(model.initial_states[0])

        def interpreted(state: tuple) -> bool:
            view._v = state
            return bool(predicate(view))
        return interpreted
    lines = ["def predicate(s):"]
    nested_ifs(tree(paths), lambda truth, pad: lines.append(f"{pad}return {truth!r}"), 1, lines,
               python_source())
    lines.append("    raise AssertionError('no path')")
    namespace: dict = {}
    exec(compile("\n".join(lines) + "\n", f"<compiled {what}>", "exec"), namespace)
    return namespace["predicate"]
