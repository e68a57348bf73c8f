"""Dask's layer: a formula called with dask arrays becomes one task per chunk, each running the
code of a backend (:mod:`.scale`). It is not a target of its own: it prints nothing and runs
whichever backend's code the function uses (numba's batch kernel for a function on numba)."""
