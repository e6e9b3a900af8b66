"""``python -m reports``: the same as ``ksecheck report``."""
import argparse
import sys

from checker.errors import KsecheckError

from .cli import add_parser, run


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    try:
        return run(parser.parse_args(["report", *(sys.argv[1:] if argv is None else argv)]))
    except KsecheckError as exc:
        print(f"ksecheck: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
