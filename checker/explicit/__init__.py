"""Explicit-state search: one front door and one breadth-first loop (:mod:`.search`), with the
engines behind it (:mod:`.compiled`, :mod:`.vector`, :mod:`.parallel`), state packing,
symmetry reduction, liveness on the explored graph, and the reachable graph as data."""
