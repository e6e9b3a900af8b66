"""``python -m ksecheck`` runs the command line."""
import sys

from ksecheck.cli import main

sys.exit(main())
