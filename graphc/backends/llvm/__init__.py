"""graphc's LLVM backend (graphc[llvm]): LLVM IR compiled with llvmlite."""
