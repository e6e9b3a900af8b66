"""Symbolic checking with Z3: the traced paths as a relation (:mod:`.z3enc`) and a circuit
(:mod:`.unroll`); bounded model checking, IC3/PDR, induction and proofs at one
configuration; the relational prover for every size (:mod:`.relational`)."""
