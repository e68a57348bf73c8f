"""The llvm backend: graphc's straight-line code compiled to machine code with llvmlite.

``graphc.compile(formula, backend="llvm")`` (or ``f.using("llvm")``) runs every call of a
scalar formula through one LLVM IR module per kind of code, whose text
``f.source(kind, backend="llvm")`` shows. The parts, one module each:

- :mod:`~graphc.backends.llvm.record`: the backend's record for the registry and the check
  that llvmlite is installed;
- :mod:`~graphc.backends.llvm.lowering`: each op as LLVM instructions;
- :mod:`~graphc.backends.llvm.module`: the module of one kind (body, scalar entry, batch
  kernel);
- :mod:`~graphc.backends.llvm.engine`: verifying, optimizing and compiling IR;
- :mod:`~graphc.backends.llvm.cache`: compiled modules kept and reused;
- :mod:`~graphc.backends.llvm.code`: the calls into machine code;
- :mod:`~graphc.backends.llvm.threads`: the threads of batch calls;
- :mod:`~graphc.backends.llvm.fused` (with ``fused_rows`` and ``fused_ir``): a loss that is a
  sum or mean over the rows of a data set, as one fused pass over the rows.

docs/llvm.md tells how it works and what it leaves out.
"""
