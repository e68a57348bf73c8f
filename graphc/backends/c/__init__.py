"""The C target: the C99 printer (:mod:`.printer`, ``f.source(kind, backend="c")``) and the
runner that compiles it with the system's C compiler and calls it through ctypes
(:mod:`.runner`, ``f.compiled(kind, backend="c")``)."""
