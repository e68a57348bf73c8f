"""Backends: print a graph as source code and turn that source into a callable.

The modules here are shared by every target (the ``Backend`` record, the registry, scheduling,
naming, printing, the cache folder); each target family has a folder of its own: ``python/``
(math, numpy), ``numba/``, ``c/``, ``jax/``. ``dask/`` runs any backend's code over the chunks
of dask arrays. docs/design.md, "How to add a backend", says where a new target goes."""
