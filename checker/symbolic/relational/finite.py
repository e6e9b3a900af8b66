"""Finite instances: a system at fixed sizes, its formulas compiled to Python.

:class:`FiniteInstance` fixes a size per uninterpreted sort and an
interpretation of the rigid symbols. Its elements are ``0..n-1``; a state is a
tuple (one entry per mutable symbol) of nested tuples (``R[a][b]``). Every
formula is compiled to Python source and evaluated on such states, so the
instance enumerates its reachable states breadth-first
(:func:`checker.explicit.graph.breadth_first`) at Python speed;
:meth:`FiniteInstance.solver_successors` asks Z3 for the same successors from
the transition formula, so that tests check that the executed updates and the
formula agree.
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import z3

from ...errors import CheckerBug, UsageError
from ...explicit.graph import breadth_first
from .ground import Grounder, solver
from .system import Symbol, System, Transition, applications, applied


def nest(domains: Sequence[Sequence], at: Callable):
    """A nested-tuple table: ``at(args)`` for every tuple of ``domains``, indexed in order."""
    def level(prefix, rest):
        if not rest:
            return at(prefix)
        return tuple(level(prefix + (x,), rest[1:]) for x in rest[0])
    return level((), list(domains))


class _Compiler:
    """Z3 formulas to Python source over nested-tuple interpretations."""

    def __init__(self, system: System, names: Mapping[str, str], free: Mapping[str, str]):
        self.system, self.names, self.free = system, names, free
        self.counter = 0
        self.enum_index = {str(v): i for vs in system.enums.values() for i, v in enumerate(vs)}

    def universe(self, sort: z3.SortRef) -> str:
        if sort == z3.BoolSort():
            return "(False, True)"
        if sort.name() in self.system.enums:
            return f"range({len(self.system.enums[sort.name()])})"
        return f"U_{sort.name()}"

    def __call__(self, e: z3.ExprRef, bound: tuple[str, ...] = ()) -> str:
        if z3.is_var(e):
            return bound[len(bound) - 1 - z3.get_var_index(e)]
        if z3.is_quantifier(e):
            names = []
            for i in range(e.num_vars()):
                self.counter += 1
                names.append(f"v{self.counter}")
            body = self(e.body(), bound + tuple(names))
            loops = " ".join(f"for {n} in {self.universe(e.var_sort(i))}"
                             for i, n in enumerate(names))
            return f"{'all' if e.is_forall() else 'any'}({body} {loops})"
        d = e.decl()
        k = d.kind()
        kids = [self(c, bound) for c in e.children()]
        if k == z3.Z3_OP_TRUE:
            return "True"
        if k == z3.Z3_OP_FALSE:
            return "False"
        if k == z3.Z3_OP_AND:
            return "(" + " and ".join(kids) + ")" if kids else "True"
        if k == z3.Z3_OP_OR:
            return "(" + " or ".join(kids) + ")" if kids else "False"
        if k == z3.Z3_OP_NOT:
            return f"(not {kids[0]})"
        if k == z3.Z3_OP_IMPLIES:
            return f"(not {kids[0]} or {kids[1]})"
        if k in (z3.Z3_OP_EQ,):
            return f"({kids[0]} == {kids[1]})"
        if k in (z3.Z3_OP_XOR,):
            return f"({kids[0]} != {kids[1]})"
        if k == z3.Z3_OP_DISTINCT:
            if len(kids) == 2:
                return f"({kids[0]} != {kids[1]})"
            return f"(len({{{', '.join(kids)}}}) == {len(kids)})"
        if k == z3.Z3_OP_ITE:
            return f"({kids[1]} if {kids[0]} else {kids[2]})"
        if k == z3.Z3_OP_DT_CONSTRUCTOR and str(e) in self.enum_index:
            return str(self.enum_index[str(e)])
        if k == z3.Z3_OP_UNINTERPRETED:
            n = d.name()
            if not kids and n in self.free:
                return self.free[n]
            if n in self.names:
                return self.names[n] + "".join(f"[{a}]" for a in kids)
        raise UsageError(f"cannot evaluate {e} concretely: {d.name()} is not a known symbol, "
                         "parameter or operator")


def _free_names(e: z3.ExprRef, candidates: set[str]) -> set[str]:
    return {a.decl().name() for a in applications(e)
            if a.num_args() == 0 and a.decl().kind() == z3.Z3_OP_UNINTERPRETED
            and a.decl().name() in candidates}


@dataclass
class FiniteReachable:
    """The reachable states of a finite instance, found breadth-first."""

    sizes: dict[str, int]
    states: list[tuple]                # in discovery order
    transitions: int
    depth: int
    fired: dict[str, int]
    seconds: float
    complete: bool


class FiniteInstance:
    """A system at fixed sizes, with given interpretations of its rigid symbols.

    Elements of an uninterpreted sort of size ``n`` are ``0..n-1``; of an enum,
    the index of the value; of Bool, False and True. A state is a tuple with one
    nested-tuple interpretation per mutable symbol (``state[i][a][b]``).
    """

    def __init__(self, system: System, sizes: Mapping[str, int],
                 rigid: Mapping[str, object] | None = None):
        self.system = system
        missing = [s for s in system.sorts if s not in system.enums and s not in sizes]
        if missing or any(n < 1 for n in sizes.values()):
            raise UsageError(f"sizes must give every uninterpreted sort at least one element "
                             f"(missing {missing}, got {dict(sizes)})")
        self.sizes = {s: sizes[s] for s in system.sorts if s not in system.enums}
        rigid = dict(rigid or {})
        absent = [s.name for s in system.rigid if s.name not in rigid]
        if absent:
            raise UsageError(f"give an interpretation of the rigid symbol(s) {absent}")
        self.rigid = tuple(rigid[s.name] for s in system.rigid)
        self.env = {f"U_{s}": range(n) for s, n in self.sizes.items()}
        self.env.update({f"R{i}": v for i, v in enumerate(self.rigid)})
        self.names = {s.name: f"R{i}" for i, s in enumerate(system.rigid)}
        self._succ: list[tuple[str, Callable]] | None = None
        self._checks: dict[str, Callable] = {}
        bad = [n for n, f in system.axioms.items() if not self.evaluate(f, ())]
        if bad:
            raise UsageError(f"the rigid interpretation breaks axiom(s) {bad}")

    # evaluation

    def compile(self, e: z3.ExprRef, free: Sequence[z3.ExprRef] = (),
                post: bool = False) -> Callable:
        """``f(S, *free values)`` (``f(S, P, ...)`` with ``post``): ``e``'s value on state S
        (and post-state P)."""
        names = dict(self.names)
        names.update({s.name: f"S[{i}]" for i, s in enumerate(self.system.mutable)})
        if post:
            names.update({s.name + "'": f"P[{i}]" for i, s in enumerate(self.system.mutable)})
        fv = {str(c): f"a{i}" for i, c in enumerate(free)}
        src = _Compiler(self.system, names, fv)(e)
        args = ", ".join(["S"] + (["P"] if post else []) + list(fv.values()))
        return eval(f"lambda {args}: {src}", dict(self.env))

    def evaluate(self, e: z3.ExprRef, state: tuple, *values, post: tuple | None = None,
                 free: Sequence[z3.ExprRef] = ()):
        """The value of ``e`` in ``state`` (and ``post``) with ``free`` constants at ``values``."""
        f = self.compile(e, free, post is not None)
        return f(state, post, *values) if post is not None else f(state, *values)

    def holds(self, name: str, state: tuple) -> bool:
        """Whether the invariant called ``name`` holds in ``state``."""
        if name not in self._checks:
            self._checks[name] = self.compile(self.system.invariants[name].formula)
        return bool(self._checks[name](state))

    # successors

    def _compile_transition(self, t: Transition) -> Callable:
        """Python source that enumerates parameter values, evaluates lets and guard conjuncts
        as soon as their parameters are bound, and builds the post-state."""
        sysm = self.system
        names = dict(self.names)
        names.update({s.name: f"s{i}" for i, s in enumerate(sysm.mutable)})
        free = {str(p): f"p{i}" for i, p in enumerate(t.params)}
        free.update({str(c): f"l{i}" for i, (c, _) in enumerate(t.lets)})
        comp = _Compiler(sysm, names, free)
        level = {str(p): i for i, p in enumerate(t.params)}
        for c, d in t.lets:
            level[str(c)] = max([-1] + [level[n] for n in _free_names(d, set(level))])
        conjuncts = list(t.guard.children()) if z3.is_and(t.guard) else [t.guard]
        placed: dict[int, list[str]] = {i: [] for i in range(-1, len(t.params))}
        for i, (c, d) in enumerate(t.lets):
            placed[level[str(c)]].append(f"l{i} = {comp(d)}")
        for g in conjuncts:
            lv = max([-1] + [level[n] for n in _free_names(g, set(level))])
            placed[lv].append(f"if not {comp(g)}: continue" if lv >= 0
                              else f"if not {comp(g)}: return out")
        # within a level, lets come first: conjuncts may use them; a let never needs a guard
        # (every element is a valid index), so computing it early is harmless.
        lines = ["def succ(S):", "    out = []"]
        lines.append("    " + ", ".join(f"s{i}" for i in range(len(sysm.mutable))) +
                     (", = S" if len(sysm.mutable) == 1 else " = S"))
        for stmt in placed[-1]:
            lines.append("    " + stmt)
        indent = "    "
        for i, p in enumerate(t.params):
            lines.append(f"{indent}for p{i} in {comp.universe(p.sort())}:")
            indent += "    "
            lines.extend(indent + stmt for stmt in placed[i])
        ups = {sym.name: (xs, value) for sym, xs, value in t.updates}
        post = []
        for i, sym in enumerate(sysm.mutable):
            if sym.name not in ups:
                post.append(f"s{i}")
                continue
            xs, value = ups[sym.name]
            vfree = dict(free)
            vfree.update({str(x): f"x{j}" for j, x in enumerate(xs)})
            src = _Compiler(sysm, names, vfree)(value)
            for j in reversed(range(len(xs))):
                src = f"tuple({src} for x{j} in {comp.universe(xs[j].sort())})"
            post.append(src)
        lines.append(f"{indent}out.append(({', '.join(post)},))")
        lines.append("    return out")
        scope = dict(self.env)
        exec(compile("\n".join(lines), f"<successors of {t.name}>", "exec"), scope)  # noqa: S102 - source built above from the system's own formulas
        return scope["succ"]

    def successors(self, state: tuple) -> list[tuple[str, tuple]]:
        """``(transition, post-state)`` for every enabled step (a post-state once per parameter
        choice that gives it)."""
        if self._succ is None:
            self._succ = [(t.name, self._compile_transition(t)) for t in self.system.transitions.values()]
        return [(name, p) for name, f in self._succ for p in f(state)]

    def initial_states(self, timeout: float | None = None) -> list[tuple]:
        """Every state satisfying the initial formula, enumerated with Z3 and re-checked."""
        s, elems, ground = self._finite_solver(timeout)
        s.add(ground([self.system.init]))
        found = self._enumerate(s, elems, [s2.decl for s2 in self.system.mutable])
        init = self.compile(self.system.init)
        for st in found:
            if not init(st):
                raise CheckerBug("an initial state from Z3 fails the initial formula concretely")
        return sorted(found)

    def solver_successors(self, state: tuple, transition: str,
                          timeout: float | None = None) -> set[tuple]:
        """The post-states Z3 finds for ``transition`` from ``state`` (the formula's answer)."""
        t = self.system.transitions[transition]
        s, elems, ground = self._finite_solver(timeout)
        self._assert_state(s, elems, state, [sym.decl for sym in self.system.mutable])
        s.add(ground([self.system.transition_body(t)]))
        return self._enumerate(s, elems, [sym.post for sym in self.system.mutable])

    def reachable(self, max_states: int | None = None, timeout: float | None = None) -> FiniteReachable:
        """Breadth-first search over the compiled successors from every initial state, counting
        how often each transition fires; ``timeout`` covers enumerating the initial states too."""
        start = time.perf_counter()
        fired = dict.fromkeys(self.system.transitions, 0)

        def counted(state: tuple) -> list[tuple[str, tuple]]:
            steps = self.successors(state)
            for name, _ in steps:
                fired[name] += 1
            return steps

        init = self.initial_states()
        left = None if timeout is None else timeout - (time.perf_counter() - start)
        graph = breadth_first(init, counted, max_states=max_states, timeout=left)
        return FiniteReachable(dict(self.sizes), graph.states, graph.transitions, graph.depth, fired,
                         time.perf_counter() - start, graph.complete)

    # Z3 over the finite universe

    def _finite_solver(self, timeout):
        """A solver over exactly these sizes (distinct named elements), the rigid symbols
        asserted, and the grounder that makes formulas quantifier-free over the elements."""
        s = solver(timeout, None, 0)
        ground = Grounder(self.system, self.sizes)
        elems = ground.elems
        for es in elems.values():
            if len(es) > 1:
                s.add(z3.Distinct(es))
        for sym, value in zip(self.system.rigid, self.rigid):
            self._assert_symbol(s, elems, sym.decl, sym, value)
        return s, elems, ground

    def _cells(self, elems, sym: Symbol):
        """Every argument tuple of ``sym``: pairs (index of the value, the value as a term)."""
        return itertools.product(*(list(enumerate(self.system.values(a, elems))) for a in sym.args))

    def _z3_value(self, elems, sort, v):
        return self.system.values(sort, elems)[int(v)]

    def _assert_symbol(self, s, elems, decl, sym, value) -> None:
        for combo in self._cells(elems, sym):
            v = value
            for i, _ in combo:
                v = v[i]
            s.add(applied(decl, [e for _, e in combo]) == self._z3_value(elems, sym.range, v))

    def _assert_state(self, s, elems, state, decls) -> None:
        for sym, decl, value in zip(self.system.mutable, decls, state):
            self._assert_symbol(s, elems, decl, sym, value)

    def _enumerate(self, s, elems, decls) -> set[tuple]:
        out = set()
        while True:
            answer = s.check()
            if answer == z3.unsat:
                return out
            if answer != z3.sat:
                raise UsageError(f"Z3 gave up enumerating a finite instance: {s.reason_unknown()}")
            zm = s.model()
            named = {}
            for es in elems.values():
                named.update({str(zm.eval(e, model_completion=True)): i for i, e in enumerate(es)})
            state, block = [], []
            for sym, decl in zip(self.system.mutable, decls):
                cells = {}
                for combo in self._cells(elems, sym):
                    term = applied(decl, [e for _, e in combo])
                    v = zm.eval(term, model_completion=True)
                    if sym.range == z3.BoolSort():
                        val = z3.is_true(v)
                    elif sym.range.name() in self.system.enums:
                        val = [str(c) for c in self.system.enums[sym.range.name()]].index(str(v))
                    else:
                        val = named[str(v)]
                    cells[tuple(i for i, _ in combo)] = val
                    block.append(term != self._z3_value(elems, sym.range, val))
                state.append(nest([self.domain(a) for a in sym.args], cells.__getitem__))
            out.add(tuple(state))
            s.add(z3.Or(block) if block else z3.BoolVal(False))

    # readable states (data only)

    def domain(self, sort: z3.SortRef) -> range | tuple:
        """The values of ``sort`` here."""
        if sort == z3.BoolSort():
            return (False, True)
        if sort.name() in self.system.enums:
            return range(len(self.system.enums[sort.name()]))
        return range(self.sizes[sort.name()])

    def element_name(self, sort: z3.SortRef, v) -> str:
        """``thread1``, an enum value's name, or ``true``/``false``."""
        if sort == z3.BoolSort():
            return "true" if v else "false"
        if sort.name() in self.system.enums:
            return str(self.system.enums[sort.name()][v])
        return f"{sort.name()}{v}"

    def context(self) -> list[str]:
        """The universe and, one line each, the rigid symbols' facts: what to show before a state."""
        universe = ", ".join(f"{s} = {{{', '.join(f'{s}{i}' for i in range(n))}}}"
                             for s, n in self.sizes.items())
        return [f"universe: {universe}"] + [f"  {name}: {', '.join(rows) or '(empty)'}"
                                            for name, rows in self.facts((), rigid=True).items()]

    def facts(self, state: tuple, rigid: bool = False) -> dict[str, list[str]]:
        """Per symbol, the true atoms of a relation or ``f(a) = v`` of a function or constant."""
        out = {}
        syms = self.system.rigid if rigid else self.system.mutable
        values = self.rigid if rigid else state
        for sym, value in zip(syms, values):
            rows = []
            for args in itertools.product(*[self.domain(a) for a in sym.args]):
                v = value
                for a in args:
                    v = v[a]
                shown = ", ".join(self.element_name(s, a) for s, a in zip(sym.args, args))
                call = f"{sym.name}({shown})" if sym.args else sym.name
                if sym.is_relation:
                    if v:
                        rows.append(call)
                else:
                    rows.append(f"{call} = {self.element_name(sym.range, v)}")
            out[sym.name] = rows
        return out
