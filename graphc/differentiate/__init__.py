"""Differentiation: reverse and forward mode (:mod:`~graphc.differentiate.reverse`), and
higher order and the multi-pass programs (:mod:`~graphc.differentiate.higher`)."""
