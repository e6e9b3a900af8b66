"""The contract and its semantics: what a model is, and the paths every engine is built from.

Knows no engine. A model (:mod:`.contract`, over the state layout of
:mod:`.schema` and the domains of :mod:`.domains`) is traced into paths
(:mod:`.paths`) of expressions (:mod:`.expr`), arranged as decision trees
(:mod:`.decisions`); :mod:`.compile` is the Python backend.
"""
