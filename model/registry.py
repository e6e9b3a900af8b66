"""Every model family the command line knows, and where their pinned numbers live."""
from pathlib import Path

from ksecheck.checker.core.catalogue import Catalogue

from ksecheck.model import examples

PINNED = Path(__file__).with_name("pinned.json")
"""Measured numbers of every configuration and variant (see ``ksecheck regress``)."""


def catalogue() -> Catalogue:
    """The families, with the KSE ``upcall`` design as the default."""
    from ksecheck.model import kstack
    from ksecheck.model import loan
    from ksecheck.model import upcall
    return Catalogue([upcall.FAMILY, loan.FAMILY, kstack.FAMILY, *examples.FAMILIES],
                     default="upcall")
