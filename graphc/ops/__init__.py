"""The ops: the record type (:mod:`~graphc.ops.record`), the scalar table
(:mod:`~graphc.ops.scalar`), the tensor table (:mod:`~graphc.ops.tensor`), the shape algebra the
tensor ops use (:mod:`~graphc.ops.shapes`), and the registry that joins the tables and derives
every other table from them (:mod:`~graphc.ops.registry`)."""

from graphc.ops.record import ANY, ATOM, POWER, PRODUCT, SUM, UNARY, Op
from graphc.ops.registry import (ALL_OPS, BY_NAME, CONSTANT_PRINT, CONSTANTS, FUNCTIONS,
                                 SOFT_FUNCTIONS)
from graphc.ops.scalar import OPS
from graphc.ops.tensor import TENSOR_OPS

__all__ = ["ALL_OPS", "ANY", "ATOM", "BY_NAME", "CONSTANTS", "CONSTANT_PRINT", "FUNCTIONS", "OPS",
           "Op", "POWER", "PRODUCT", "SOFT_FUNCTIONS", "SUM", "TENSOR_OPS", "UNARY"]
