"""ksecheck: an explicit-state and symbolic model checker, and the KSE protocol it checks.

The checker itself is :mod:`ksecheck.checker`; the KSE models, their
properties and the report are :mod:`ksecheck.model`, :mod:`ksecheck.properties`
and :mod:`ksecheck.reports`; the command line is :mod:`ksecheck.cli`.
"""
