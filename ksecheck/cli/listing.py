"""``ksecheck list``: the models, their configurations, variants and properties."""
from __future__ import annotations

from tabulate import tabulate

from .common import EXIT_OK, catalogue


def add_parser(sub) -> None:
    """Add ``list`` to the command line."""
    sub.add_parser("list", help="list models, configurations, variants and properties")


def run(args) -> int:
    """Run ``ksecheck list``; returns the exit code."""
    cat = catalogue()
    rows = []
    for fam in cat.families.values():
        for cfg in fam.configs:
            consts = " ".join(f"{k}={v}" for k, v in cfg.constants.items())
            default = " (default)" if cfg.name == fam.default_config else ""
            rows.append([fam.name, cfg.name + default, consts, cfg.doc])
    print(tabulate(rows, headers=["model", "configuration", "constants", "use"]))
    vrows = [[fam.name, v.name, ", ".join(v.violates), v.doc]
             for fam in cat.families.values() for v in fam.variants]
    if vrows:
        print()
        print(tabulate(vrows, headers=["model", "variant", "must violate", "re-introduces"]))
    prows = []
    for fam in cat.families.values():
        model = fam.instantiate(fam.default_config or fam.configs[0].name)
        prows += [[fam.name, p.name, p.kind, p.source] for p in model.properties]
    print()
    print(tabulate(prows, headers=["model", "property", "kind", "source"]))
    return EXIT_OK
