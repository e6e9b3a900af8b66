"""Promela for SPIN, generated from a model's traced paths: the speed reference.

The model is not written twice. :func:`checker.core.paths.trace_instance` turns
every action instance into its paths (conditions on the pre-state, one
expression per slot of the post-state); the paths of an instance form a
decision tree (:mod:`checker.core.decisions`), and each instance becomes one ``d_step`` of a single ``do``
loop: guarded by "some path is taken" (the tree as a conditional expression,
so a disabled instance costs its first failing test, as a hand-written guard
would), then one assignment per slot that some path changes, its new value
the tree again as a conditional expression. The assignments are
simultaneous: they are ordered so that a slot is overwritten only once no
later expression reads it, and where that is impossible the old value goes
to a temporary first (``hidden``, or for ``pan -DBFS``, which refuses
hidden variables, a local reset to 0 at the end of the step). A state of
the Promela program is the tuple of slots (one ``byte`` each, storing
``value - domain.lo`` so that ``none = -1`` fits) plus the one process's
program counter, which is the same in every state (the loop's head). So
SPIN's distinct states are exactly ksecheck's, and ``stored + matched`` is
ksecheck's transitions + 1 (the initial state is stored without a
transition); ``benchmarks/side_by_side.py`` and
``tests/checker/explicit/test_spin_counts.py`` check both.

Every invariant (``always`` property, as the disjunction of its traced true
paths) is the negated guard of an ``assert(false)`` in a second process,
``monitor``, unless ``asserts=False``. SPIN evaluates the guards in every
state it expands, so it does the same work per state as ksecheck's search,
which evaluates every open invariant on every new state; the monitor only
blocks while they hold, so it adds no state (its program counter never
moves). A path on which the model would index out of
range becomes ``assert(false)``. ``sometimes`` and ``eventually`` properties
are not translated (they are ksecheck's own business, not the speed
comparison's).

Run: ``python benchmarks/spin/promela.py small [--out DIR] [--no-asserts]``
writes ``DIR/upcall_small.pml`` (DIR defaults to this folder).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ksecheck.checker.core.contract import Model  # noqa: E402
from ksecheck.checker.core.decisions import Leaf, Node, instance_tree  # noqa: E402
from ksecheck.checker.core.expr import Const, Expr, Infix, Ite, Slot, Unary, emit, negate, walk  # noqa: E402
from ksecheck.checker.core.paths import conditions, predicate_paths, trace_instance  # noqa: E402

HERE = Path(__file__).resolve().parent


def _name(slot: str) -> str:
    """A Promela identifier for a slot name such as ``t1.loc``."""
    return "v_" + re.sub(r"\W", "_", slot)


class _Promela(Infix):
    """Expressions as Promela (C) source; ``saved`` maps slots already overwritten in this
    step to the temporary holding their old (stored) value."""

    def __init__(self, writer: "_Writer", saved: dict[int, str]):
        self.w, self.saved = writer, saved

    def const(self, e: Const) -> str:
        return str(int(e.value))

    def slot(self, e: Slot) -> str:
        i = e.index
        name = self.saved.get(i, self.w.names[i])
        return name if self.w.lo[i] == 0 else f"({name} + {self.w.lo[i]})"

    def unary(self, e: Unary, arg: str) -> str:
        return f"!{arg}" if e.op == "not" else f"(~{arg})"

    def ite(self, e: Ite, cond: str, then: str, other: str) -> str:
        return f"({cond} -> {then} : {other})"


class _Writer:
    def __init__(self, model: Model):
        self.model = model
        self.names = [_name(n) for n in model.schema.slot_names]
        self.lo = [d.lo for d in model.schema.slot_domains]

    def expr(self, e: Expr, saved: dict[int, str] | None = None) -> str:
        """Promela (C) source for an expression of :mod:`checker.core.expr`."""
        return emit(e, _Promela(self, saved or {}))

    def assign(self, changed: list[tuple[int, Expr]]) -> tuple[list[str], int]:
        """Statements giving every slot of ``changed`` its new value at once, and the
        number of temporaries they use.

        A slot is overwritten once no expression still to be evaluated reads
        it; where every remaining slot is still read (a cycle), the old value
        of one is saved in a temporary first.
        """
        todo = dict(changed)
        reads = {i: _slots(e) for i, e in changed}
        saved: dict[int, str] = {}
        out: list[str] = []
        while todo:
            free = [i for i in todo if not any(i in reads[j] for j in todo if j != i)]
            if not free:
                i = max(todo, key=lambda i: sum(i in reads[j] for j in todo if j != i))
                saved[i] = f"_t{len(saved)}"
                out.append(f"{saved[i]} = {self.names[i]}")
                for j in todo:
                    reads[j].discard(i)
                continue
            for i in free:
                e = todo.pop(i)
                offset = f" - {self.lo[i]}" if self.lo[i] else ""
                out.append(f"{self.names[i]} = {self.expr(e, saved)}{offset}")
        return out, len(saved)

    def conj(self, conds) -> str:
        return " && ".join(self.expr(c) for c in conds) if conds else "true"

    def predicate(self, fn, what: str) -> str:
        """The predicate as a disjunction of its true paths."""
        true = [conditions(d) for d, truth in predicate_paths(self.model, fn, what) if truth]
        if not true:
            return "false"
        return " || ".join(f"({self.conj(c)})" for c in true)

    def enabled(self, node: Node) -> str:
        """Whether some path of the tree is taken: its first failing test ends the evaluation."""
        if isinstance(node, Leaf):
            return "true"
        if node.yes is not None and node.no is not None:
            return f"({self.expr(node.cond)} -> {self.enabled(node.yes)} : {self.enabled(node.no)})"
        c, child = (node.cond, node.yes) if node.yes is not None else (negate(node.cond), node.no)
        return f"({self.expr(c)} && {self.enabled(child)})"


def _slots(e: Expr) -> set[int]:
    """The slots an expression reads."""
    return {n.index for n in walk(e) if isinstance(n, Slot)}


def _value(node: Node, i: int) -> Expr:
    """Slot ``i`` after the step, as one expression over the pre-state (``Ite`` down the tree).

    Only meaningful where some path is taken, so a test with one side only
    needs no ``Ite``.
    """
    if isinstance(node, Leaf):
        return node.value.post[i]
    if node.yes is None or node.no is None:
        return _value(node.yes or node.no, i)
    a, b = _value(node.yes, i), _value(node.no, i)
    return a if a == b else Ite(node.cond, a, b)


def _errors(node: Node, conds=()) -> list[tuple]:
    """The conditions of every path on which the model indexes out of range."""
    if isinstance(node, Leaf):
        return [conds] if node.value.post is None else []
    out = []
    if node.yes is not None:
        out += _errors(node.yes, conds + (node.cond,))
    if node.no is not None:
        out += _errors(node.no, conds + (negate(node.cond),))
    return out


def promela(model: Model, asserts: bool = True, title: str = "", bfs: bool = False) -> str:
    """The Promela program for ``model`` (one initial state only).

    Temporaries are ``hidden`` globals, which SPIN's breadth-first search
    refuses; with ``bfs`` they are locals of the process instead, set back
    to 0 at the end of every step, so that they add bytes to the state
    vector but never a state.
    """
    if len(model.initial_states) != 1:
        raise ValueError(f"model {model.name} has {len(model.initial_states)} initial states; "
                         "the generator handles exactly one")
    w = _Writer(model)
    schema = model.schema
    for d in schema.slot_domains:
        if d.hi - d.lo > 255:
            raise ValueError(f"a domain {d.describe()} does not fit a byte")
    init = model.initial_states[0]
    out = [f"/* {title or model.name}: generated by benchmarks/spin/promela.py from the model's "
           "traced paths; do not edit. */", ""]
    for name, lo, v in zip(w.names, w.lo, init):
        out.append(f"byte {name} = {v - lo};")
    steps: list[str] = []
    width = 0  # temporaries
    for inst in model.instances:
        tree = instance_tree(trace_instance(model, inst))
        if tree is None:
            continue  # never enabled
        bad = _errors(tree)
        if bad:  # the model would index out of range: a model error, not a disabled step
            steps += [f"\t:: d_step {{ {w.conj(c)} -> assert(false) }} /* {inst.label} */" for c in bad]
            continue
        changed = [(i, _value(tree, i)) for i in range(schema.width)]
        changed = [(i, e) for i, e in changed if e != Slot(i)]
        body, temps = w.assign(changed)
        if bfs:
            body += [f"_t{k} = 0" for k in range(temps)]
        width = max(width, temps)
        steps.append(f"\t:: d_step {{ /* {inst.label} */")
        steps.append(f"\t\t{w.enabled(tree)} ->")
        steps += [f"\t\t{line};" for line in body]
        steps.append("\t}")
    if not bfs:
        out += [f"hidden byte _t{k};" for k in range(width)]
    out += ["", "active proctype main() {"]
    if bfs:
        out += [f"\tbyte _t{k};" for k in range(width)]
    out += ["end:", "\tdo"]
    out += steps
    out += ["\tod", "}", ""]
    invs = [p for p in model.properties if p.kind == "always"] if asserts else []
    if invs:
        out += ["/* The invariants: the monitor's guards are evaluated in every state and it",
                "   blocks (a valid end state) while they all hold. */"]
        out += [f"#define inv_{p.name} ({w.predicate(p.check, p.name)})" for p in invs]
        out += ["", "active proctype monitor() {", "end:", "\tdo"]
        out += [f"\t:: !inv_{p.name} -> assert(false)" for p in invs]
        out += ["\tod", "}", ""]
    return "\n".join(out)


def write(config: str, out_dir: Path = HERE, asserts: bool = True, variants=(),
          bfs: bool = False) -> Path:
    """Write ``upcall_<config>.pml`` (``upcall_<config>_bfs.pml`` with ``bfs``) into ``out_dir``."""
    from ksecheck.registry import catalogue

    fam = catalogue().family("upcall")
    model = fam.instantiate(config, list(variants))
    suffix = "".join(f"+{v}" for v in variants) + ("_bfs" if bfs else "")
    path = Path(out_dir) / f"upcall_{config}{suffix}.pml"
    title = f"upcall {config}{suffix} {dict(fam.config(config).constants)}"
    path.write_text(promela(model, asserts, title=title, bfs=bfs))
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config", nargs="+", help="upcall configurations (tiny, small, medium, large, huge)")
    p.add_argument("--out", default=str(HERE), help="output folder (default: benchmarks/spin)")
    p.add_argument("--no-asserts", action="store_true", help="leave the invariants out")
    p.add_argument("--bfs", action="store_true", help="temporaries as locals, for pan -DBFS")
    args = p.parse_args(argv)
    for c in args.config:
        print(write(c, Path(args.out), asserts=not args.no_asserts, bfs=args.bfs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
