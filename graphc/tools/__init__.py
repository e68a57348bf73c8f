"""Tools around a compiled function: checking, tables, drawings, the op reference, the command line."""
