"""Finite value domains of state variables: every value is a small int.

A domain knows its range ``lo..hi``, how to print a value and how to parse
one back, so that states stay tuples of ints while traces stay readable.
"""
from __future__ import annotations

from dataclasses import dataclass

NONE = -1
"""The value of an absent reference (no thread, no upcall, no mailbox)."""


@dataclass(frozen=True)
class Domain:
    """A finite set of ints ``lo..hi`` with names for printing."""

    lo: int
    hi: int

    @property
    def size(self) -> int:
        """Number of values in the domain."""
        return self.hi - self.lo + 1

    @property
    def default(self) -> int:
        """The value a fresh state gives a variable of this domain."""
        return self.lo

    def contains(self, value: object) -> bool:
        """Whether ``value`` is an int of this domain."""
        return isinstance(value, int) and self.lo <= value <= self.hi

    def values(self) -> range:
        """Every value, in increasing order."""
        return range(self.lo, self.hi + 1)

    def fmt(self, value: int) -> str:
        """The readable form of ``value``."""
        return str(value)

    def parse(self, text: str) -> int:
        """Inverse of :meth:`fmt`; raises ValueError on a foreign text."""
        for value in self.values():
            if self.fmt(value) == text:
                return value
        raise ValueError(f"{text!r} is not a value of {self.describe()}")

    def describe(self) -> str:
        """One phrase naming the domain, for error messages."""
        return f"{self.lo}..{self.hi}"


@dataclass(frozen=True)
class Bool(Domain):
    """false (0) or true (1)."""

    lo: int = 0
    hi: int = 1

    def fmt(self, value: int) -> str:
        return "true" if value else "false"

    def describe(self) -> str:
        return "a boolean"


@dataclass(frozen=True, init=False)
class Enum(Domain):
    """Named values ``0..len(names)-1``."""

    names: tuple[str, ...]

    def __init__(self, *names: str):
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"enum names must be distinct and non-empty: {names}")
        object.__setattr__(self, "lo", 0)
        object.__setattr__(self, "hi", len(names) - 1)
        object.__setattr__(self, "names", tuple(names))

    def fmt(self, value: int) -> str:
        return self.names[value]

    def describe(self) -> str:
        return "one of " + ", ".join(self.names)


@dataclass(frozen=True)
class Ref(Domain):
    """A reference to one of ``n`` slots named ``prefix0..``, or NONE if allowed."""

    prefix: str = "x"
    optional: bool = True

    @classmethod
    def to(cls, n: int, prefix: str, optional: bool = True) -> "Ref":
        """Slots ``0..n-1`` printed as ``prefix`` + index; NONE allowed if optional."""
        return cls(NONE if optional else 0, n - 1, prefix, optional)

    @property
    def count(self) -> int:
        """Number of slots referred to."""
        return self.hi + 1

    def fmt(self, value: int) -> str:
        return "none" if value == NONE else f"{self.prefix}{value}"

    def describe(self) -> str:
        opt = " or none" if self.optional else ""
        return f"{self.prefix}0..{self.prefix}{self.hi}{opt}"


@dataclass(frozen=True)
class Set(Domain):
    """A subset of ``n`` slots named ``prefix0..``, stored as a bit mask."""

    prefix: str = "x"

    @classmethod
    def of(cls, n: int, prefix: str) -> "Set":
        """Subsets of slots ``0..n-1``."""
        return cls(0, (1 << n) - 1, prefix)

    @property
    def count(self) -> int:
        """Number of slots the set draws from."""
        return self.hi.bit_length()

    def fmt(self, value: int) -> str:
        members = [f"{self.prefix}{i}" for i in range(self.count) if value >> i & 1]
        return "{" + ",".join(members) + "}"

    def parse(self, text: str) -> int:
        body = text.strip()
        if not (body.startswith("{") and body.endswith("}")):
            raise ValueError(f"{text!r} is not a set like {{{self.prefix}0,{self.prefix}1}}")
        value = 0
        for item in filter(None, (x.strip() for x in body[1:-1].split(","))):
            idx = item[len(self.prefix):]
            if not item.startswith(self.prefix) or not idx.isdigit() or int(idx) >= self.count:
                raise ValueError(f"{item!r} is not one of {self.prefix}0..{self.prefix}{self.count - 1}")
            value |= 1 << int(idx)
        return value

    def describe(self) -> str:
        return f"a set of {self.prefix}0..{self.prefix}{self.count - 1}"


def bit(i: int) -> int:
    """The one-element set ``{i}``."""
    return 1 << i


def has(mask: int, i: int) -> bool:
    """Whether ``i`` is a member of the set ``mask``."""
    return (mask >> i) & 1 == 1
