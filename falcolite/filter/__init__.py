"""The condition language: tokenizer, parser and AST (falco-compat.md 6)."""

from .ast import BoolOp, Compare, MacroRef, Node, Not, Value, render, walk
from .parser import FilterSyntaxError, parse

__all__ = [
    "BoolOp",
    "Compare",
    "FilterSyntaxError",
    "MacroRef",
    "Node",
    "Not",
    "Value",
    "parse",
    "render",
    "walk",
]
