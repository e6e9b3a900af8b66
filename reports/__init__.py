"""Verification reports of the KSE models: ``ksecheck report`` writes them here.

:mod:`reports.build` runs the checks, :mod:`reports.document` turns them into
blocks of content, :mod:`reports.markdown` and :mod:`reports.html` render
those, :mod:`reports.svg` draws the pictures and :mod:`reports.graph` keeps
state graphs; :mod:`reports.generate` ties them together.
"""
