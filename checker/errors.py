"""Errors the checker raises; the CLI maps each to an exit code."""


class KsecheckError(Exception):
    """Base class: a problem the user can fix, reported in one line."""


class ModelError(KsecheckError):
    """A transition system breaks the checker's contract (exit code 2)."""


class UsageError(KsecheckError):
    """Bad input from the user: unknown name, impossible value (exit code 2)."""


class TraceError(KsecheckError):
    """A saved trace is malformed or does not replay against the model (exit code 2)."""


class CheckerBug(Exception):
    """An internal inconsistency, such as a rebuilt trace that does not replay."""


class SlotIndexError(ModelError, IndexError):
    """Model code indexed an array variable out of range (usually with none)."""


class Unsupported(ModelError):
    """Model code uses a construct the symbolic engines cannot follow."""
