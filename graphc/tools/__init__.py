"""Tools around a compiled function: checking, tables, drawings and their layout, the interactive
page, the op reference, the command line."""
