"""``ksecheck replay``: re-validate a saved trace against the model and print it."""
from __future__ import annotations

from ksecheck.checker.errors import KsecheckError
from ksecheck.checker.results import trace as tracing
from ksecheck.checker.results.text import format_trace, styler

from .common import EXIT_OK, catalogue, colour


def add_parser(sub) -> None:
    """Add ``replay`` to the command line."""
    r = sub.add_parser("replay", help="re-validate a saved trace against the model and print it")
    r.add_argument("file", help="a trace written by `ksecheck check --save-traces`")


def run(args) -> int:
    """Run ``ksecheck replay``; returns the exit code."""
    data = tracing.read(args.file)
    config, model_name = data.get("config"), data.get("model")
    if not isinstance(config, str) or not isinstance(model_name, (str, type(None))):
        raise KsecheckError(f"{args.file}: the trace must name its \"model\" and \"config\" as strings")
    family, cfg = catalogue().resolve(model_name, config)
    variants = data.get("variants", [])
    if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
        raise KsecheckError(f"{args.file}: \"variants\" must be a list of names")
    model = family.instantiate(cfg, variants)
    trace = tracing.from_json(model, data)
    print(format_trace(trace, style=styler(colour())))
    print(f"\nThe trace replays: {len(trace)} steps, every step enabled and every change as recorded.")
    return EXIT_OK
