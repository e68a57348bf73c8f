"""The numba target: its record (:mod:`.backend`), the module of scalar code numba compiles
(:mod:`.module`), the module of vector and matrix code (:mod:`.tensor`), how those modules are
kept in graphc's cache folder (:mod:`.cache_files`), and the batch kernel dask's workers run
(:mod:`.dask_kernel`). numba itself is imported only when code is compiled."""
