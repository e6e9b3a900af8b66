"""A successor function compiled to Python source from the model's traced paths.

:func:`compile_successors` traces every action instance with
:mod:`checker.symbolic`, arranges each instance's paths as a decision tree,
and generates one Python function ``successors(s) -> [(instance, next)]``
over plain state tuples. It computes exactly what the interpreted model
computes (tests compare the two on every reachable state of small
configurations) without the cost of views and function calls.
"""
from __future__ import annotations

from typing import Callable

from .contract import Model
from ..errors import ModelError, Unsupported
from .paths import Expr, Path, predicate_paths, trace_instance

Successors = Callable[[tuple], list]


def py(e: Expr) -> str:
    """Python source for an expression over the state tuple ``s``."""
    tag = e[0]
    if tag == "c":
        return repr(int(e[1]) if not isinstance(e[1], bool) else e[1])
    if tag == "s":
        return f"s[{e[1]}]"
    if tag == "not":
        return f"(not {py(e[1])})"
    if tag == "~":
        return f"(~{py(e[1])})"
    if tag == "ite":
        return f"({py(e[2])} if {py(e[1])} else {py(e[3])})"
    return f"({py(e[1])} {tag} {py(e[2])})"


def _tree(paths) -> dict:
    """Paths as a trie keyed by condition, in the order they were found.

    ``paths`` holds Path objects, or ``(conds, value)`` pairs; the leaf
    (key None) is the Path or the value.
    """
    root: dict = {}
    for p in paths:
        conds, leaf = (p.conds, p) if isinstance(p, Path) else p
        node = root
        for c in conds:
            node = node.setdefault(c, {})
        node[None] = leaf
    return root


def _emit(node: dict, leaf: Callable[[object, str], None], depth: int, out: list[str]) -> None:
    """Nested ifs for a trie; ``leaf(value, pad)`` emits the code at each leaf."""
    pad = "    " * depth
    items = list(node.items())
    i = 0
    while i < len(items):
        cond, child = items[i]
        if cond is None:
            leaf(child, pad)
            i += 1
            continue
        nxt = items[i + 1] if i + 1 < len(items) else None
        out.append(f"{pad}if {py(cond)}:")
        _emit(child, leaf, depth + 1, out)
        if nxt is not None and nxt[0] == ("not", cond):
            out.append(f"{pad}else:")
            _emit(nxt[1], leaf, depth + 1, out)
            i += 2
        else:
            i += 1


def _within(inner, outer) -> bool:
    return outer.lo <= inner.lo and inner.hi <= outer.hi


def source(model: Model) -> tuple[str, list[str], list[int]]:
    """The generated source of ``successors``, its error messages, and the computed slots."""
    lines = ["def successors(s):", "    out = []"]
    errors: list[str] = []
    computed: set[int] = set()
    domains = model.schema.slot_domains
    for k, inst in enumerate(model.instances):
        paths = trace_instance(model, inst)
        for p in paths:
            for i, e in enumerate(p.post or ()):
                if (e[0] not in ("c", "s")
                        or (e[0] == "c" and not domains[i].contains(e[1]))
                        or (e[0] == "s" and not _within(domains[e[1]], domains[i]))):
                    computed.add(i)
        lines.append(f"    # {inst.label}")

        def leaf(path: Path, pad: str, k=k) -> None:
            if path.post is None:
                errors.append(path.error)
                lines.append(f"{pad}raise ModelError(ERRORS[{len(errors) - 1}])")
            else:
                lines.append(f"{pad}out.append(({k}, ({', '.join(py(e) for e in path.post)},)))")
        _emit(_tree(paths), leaf, 1, lines)
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
    _emit(_tree(paths), lambda truth, pad: lines.append(f"{pad}return {truth!r}"), 1, lines)
    lines.append("    raise AssertionError('no path')")
    namespace: dict = {}
    exec(compile("\n".join(lines) + "\n", f"<compiled {what}>", "exec"), namespace)
    return namespace["predicate"]
