"""The model families ksecheck knows, each assembled from its protocol and its properties.

A protocol (:mod:`ksecheck.model`) and its properties
(:mod:`ksecheck.properties`) do not import each other's families: this
module, above both, puts together each :class:`~checker.core.catalogue.Family`:
the model's steps, configurations and bug variants, its properties, its
symmetries, its strengthening lemmas and its proof for every size.
"""
from __future__ import annotations

from pathlib import Path

from ksecheck import model
from ksecheck.checker.core.catalogue import Catalogue, Family
from ksecheck.model import examples, kstack, loan, upcall, upcall_symmetry
from ksecheck.properties import kstack as kstack_properties
from ksecheck.properties import loan as loan_properties
from ksecheck.properties import upcall as upcall_properties
from ksecheck.properties import upcall_lemmas, upcall_relational

PINNED = Path(model.__file__).with_name("pinned.json")
"""Measured numbers of every configuration and variant (see ``ksecheck regress``)."""

UPCALL = Family(
    name="upcall", doc=upcall.DOC, build=upcall.build, configs=upcall.CONFIGS,
    variants=upcall.BUG_VARIANTS, default_config="small",
    properties=lambda consts, variants, options: upcall_properties.properties(
        consts, options.get("MAXTHREADS")),
    symmetry=upcall_symmetry.symmetry, lemmas=upcall_lemmas.lemmas,
    any_size=lambda timeout: upcall_relational.prove_all_sizes(timeout=timeout))
"""The ``kse_upcall`` design (2003 on): the main model."""

LOAN = Family(
    name="loan", doc=loan.DOC, build=loan.build, configs=loan.CONFIGS,
    variants=loan.BUG_VARIANTS, default_config="loan-small",
    properties=lambda consts, variants, options: loan_properties.properties(consts))
"""The older ``loan`` design (2002), with the standin race."""

KSTACK = Family(
    name="kstack", doc=kstack.DOC, build=kstack.build, configs=kstack.CONFIGS,
    variants=kstack.BUG_VARIANTS, default_config="kstack",
    properties=lambda consts, variants, options: kstack_properties.properties(
        consts, kstack.in_force(variants, options)))
"""Kernel stacks: the Giant-less ``kmem_free`` and ia64 ``contigmalloc`` failures."""


def catalogue() -> Catalogue:
    """Every family, with the KSE ``upcall`` design as the default."""
    return Catalogue([UPCALL, LOAN, KSTACK, *examples.FAMILIES], default="upcall")
