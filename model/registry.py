"""Every model family the command line knows."""
from checker.catalogue import Catalogue

from . import examples


def catalogue() -> Catalogue:
    """The families, with the KSE ``upcall`` design as the default."""
    from . import kstack, loan, upcall
    return Catalogue([upcall.FAMILY, loan.FAMILY, kstack.FAMILY, *examples.FAMILIES],
                     default="upcall")
