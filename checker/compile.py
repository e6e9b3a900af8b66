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
from .errors import ModelError
from .symbolic import Expr, Path, trace_instance

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


def _tree(paths: list[Path]) -> dict:
    """Paths as a trie keyed by condition, in the order they were found."""
    root: dict = {}
    for p in paths:
        node = root
        for c in p.conds:
            node = node.setdefault(c, {})
        node[None] = p
    return root


def _emit(node: dict, k: int, depth: int, out: list[str], errors: list[str]) -> None:
    pad = "    " * depth
    items = list(node.items())
    i = 0
    while i < len(items):
        cond, child = items[i]
        if cond is None:
            if child.post is None:
                errors.append(child.error)
                out.append(f"{pad}raise ModelError(ERRORS[{len(errors) - 1}])")
            else:
                out.append(f"{pad}out.append(({k}, ({', '.join(py(e) for e in child.post)},)))")
            i += 1
            continue
        nxt = items[i + 1] if i + 1 < len(items) else None
        out.append(f"{pad}if {py(cond)}:")
        _emit(child, k, depth + 1, out, errors)
        if nxt is not None and nxt[0] == ("not", cond):
            out.append(f"{pad}else:")
            _emit(nxt[1], k, depth + 1, out, errors)
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
        _emit(_tree(paths), k, 1, lines, errors)
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
