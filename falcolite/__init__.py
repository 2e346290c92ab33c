"""falcolite: a lean, Falco-compatible runtime security agent."""

__version__ = "0.1.0"
