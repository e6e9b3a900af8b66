"""Hand-built states and single steps, shared by the per-step tests of every model."""


def read(m, s):
    """A read-only view of state ``s``."""
    return m.schema.view(s)


def edit(m, s, **changes):
    """A copy of ``s``: ``var=value`` sets a scalar, ``var={i: value}`` array elements."""
    v = m.schema.view(list(s))
    for name, value in changes.items():
        if isinstance(value, dict):
            row = getattr(v, name)
            for i, x in value.items():
                row[i] = x
        else:
            setattr(v, name, value)
    return tuple(v._v)


def enabled(m, s, name, *args):
    """Whether ``name(args)`` is enabled in ``s``."""
    return m.enabled(m.instance(name, args), s)


def step(m, s, name, *args):
    """Apply ``name(args)`` to ``s``, asserting it is enabled."""
    inst = m.instance(name, args)
    assert m.enabled(inst, s), f"{inst.label} should be enabled"
    return m.apply(inst, s)


def play(m, s, *steps):
    """Apply ``(name, *args)`` steps in turn."""
    for name, *args in steps:
        s = step(m, s, name, *args)
    return s


def holds(m, name, s):
    """Whether property ``name`` holds in ``s``."""
    return bool(m.property(name).check(read(m, s)))
