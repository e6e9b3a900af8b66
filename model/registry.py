"""Every model family the command line knows, and where their pinned numbers live."""
from pathlib import Path

from checker.catalogue import Catalogue

from . import examples

PINNED = Path(__file__).with_name("pinned.json")
"""Measured numbers of every configuration and variant (see ``ksecheck regress``)."""


def catalogue() -> Catalogue:
    """The families, with the KSE ``upcall`` design as the default."""
    from . import kstack, loan, upcall
    return Catalogue([upcall.FAMILY, loan.FAMILY, kstack.FAMILY, *examples.FAMILIES],
                     default="upcall")
