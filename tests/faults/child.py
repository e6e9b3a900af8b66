"""``python -m tests.faults.child [--memory MIB] [--file-size BYTES] ARGS``: the command line
on the fault tests' catalogue in a child process, with at most MIB more address space than
it has after its imports, or files of at most BYTES (``ulimit -v`` and ``ulimit -f``)."""
import argparse
import resource
import sys

import ksecheck.registry
from ksecheck.cli import main

from tests.faults.catalogue import CATALOGUE


def address_space() -> int:
    """This process's address space now, in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


if __name__ == "__main__":
    limits = argparse.ArgumentParser(allow_abbrev=False)
    limits.add_argument("--memory", type=int)
    limits.add_argument("--file-size", type=int)
    known, argv = limits.parse_known_args()
    ksecheck.registry.catalogue = lambda: CATALOGUE
    if known.memory is not None:
        cap = address_space() + known.memory * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    if known.file_size is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (known.file_size, known.file_size))
    sys.exit(main(argv))
