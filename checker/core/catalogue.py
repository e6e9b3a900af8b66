"""Families of models: named configurations and bug variants of one system.

A :class:`Family` builds a :class:`~checker.core.contract.Model` from the
constants of a :class:`Config` and the set of enabled variant switches. A
:class:`Catalogue` holds families and resolves the names a user types.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Mapping, Sequence

from .contract import Model, Origin, Property
from ..errors import UsageError


TIERS = ("ci", "slow", "benchmark")
"""How costly a configuration is to explore: on every test run, in the slow
tests, or only in benchmarks (its numbers are recorded, not re-checked)."""


@dataclass(frozen=True)
class Config:
    """A named, pinned choice of constants for one family."""

    name: str
    constants: Mapping[str, int]
    doc: str = ""
    options: Mapping[str, object] = field(default_factory=dict)
    tier: str = "ci"

    def __post_init__(self):
        if self.tier not in TIERS:
            raise UsageError(f"configuration {self.name}: tier must be one of {', '.join(TIERS)}")


@dataclass(frozen=True)
class Variant:
    """A switch re-introducing a historic bug, with the property it must break."""

    name: str
    doc: str
    violates: tuple[str, ...]
    history: str = ""
    check_on: tuple[str, ...] = ()
    """Configurations on which its verdicts are pinned (it may hold on one too small for the bug)."""


@dataclass(frozen=True)
class Family:
    """A model with its configurations, variants, properties and what proves them.

    ``build(constants, variants, options)`` returns the Model;
    ``properties(constants, variants, options)``, if given, its properties (kept
    apart so that a protocol and its properties need not import each other).
    ``symmetry(constants)``: the interchangeable slots (a
    :class:`~checker.explicit.symmetry.Symmetry`), for reduction. ``lemmas(constants)``:
    strengthening lemmas for inductive proofs. ``any_size(timeout)``: a proof for every
    size (a :class:`~checker.results.result.Result`).
    """

    name: str
    doc: str
    build: Callable[[Mapping[str, int], frozenset[str], Mapping[str, object]], Model]
    configs: Sequence[Config]
    variants: Sequence[Variant] = ()
    default_config: str = ""
    properties: Callable[[Mapping[str, int], frozenset[str], Mapping[str, object]],
                         Sequence[Property]] | None = None
    symmetry: Callable[[Mapping[str, int]], object] | None = None
    lemmas: Callable[[Mapping[str, int]], Sequence[Property]] | None = None
    any_size: Callable[[float | None], object] | None = None

    def config(self, name: str) -> Config:
        """The configuration called ``name``."""
        for c in self.configs:
            if c.name == name:
                return c
        raise UsageError(f"model {self.name} has no configuration {name!r}; "
                         f"choose one of: {', '.join(c.name for c in self.configs)}")

    def variant(self, name: str) -> Variant:
        """The variant called ``name``."""
        for v in self.variants:
            if v.name == name:
                return v
        known = ", ".join(v.name for v in self.variants) or "(none)"
        raise UsageError(f"model {self.name} has no variant {name!r}; choose one of: {known}")

    def instantiate(self, config: str | Config, variants: Sequence[str] = ()) -> Model:
        """Build the model for ``config`` with the named variant switches on."""
        cfg = config if isinstance(config, Config) else self.config(config)
        for v in variants:
            self.variant(v)
        model = self.model(cfg.constants, variants, cfg.options)
        return replace(model, origin=Origin(self.name, cfg.name, tuple(variants),
                                            dict(cfg.constants)))

    def model(self, constants: Mapping[str, int], variants: Iterable[str] = (),
              options: Mapping[str, object] | None = None) -> Model:
        """The model, with its properties, for any ``constants`` (no named configuration)."""
        switches, options = frozenset(variants), dict(options or {})
        model = self.build(constants, switches, options)
        if self.properties is None:
            return model
        return replace(model, properties=tuple(self.properties(constants, switches, options)))


class Catalogue:
    """Every family the command line knows, looked up by model or config name."""

    def __init__(self, families: Sequence[Family], default: str):
        self.families = {f.name: f for f in families}
        self.default = default
        seen: dict[str, str] = {}
        for f in families:
            for c in f.configs:
                if c.name in seen:
                    raise UsageError(f"configuration {c.name!r} is defined by both "
                                     f"{seen[c.name]} and {f.name}")
                seen[c.name] = f.name
        self._config_owner = seen

    def family(self, name: str) -> Family:
        """The family called ``name``."""
        try:
            return self.families[name]
        except KeyError:
            raise UsageError(f"no model {name!r}; choose one of: "
                             f"{', '.join(self.families)} (see `ksecheck list`)") from None

    def resolve(self, model: str | None, config: str | None) -> tuple[Family, Config]:
        """The family and configuration a ``--model``/``--config`` pair names."""
        if model is None and config is not None:
            if config not in self._config_owner:
                raise UsageError(f"no configuration {config!r}; choose one of: "
                                 f"{', '.join(self._config_owner)} (see `ksecheck list`)")
            model = self._config_owner[config]
        fam = self.family(model or self.default)
        return fam, fam.config(config or fam.default_config or fam.configs[0].name)
