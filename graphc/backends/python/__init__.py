"""The Python targets: ``math`` (scalars, the ``math`` module) and ``numpy`` (arrays, with
broadcasting). Both print with the shared printer of :mod:`graphc.backends.printing`; each module
here is the :class:`~graphc.backends.backend.Backend` record of one of them."""
