"""falcolite: a lean, Falco-compatible runtime security agent."""

__version__ = "0.1.0"
# set in the staged copy by build/build_binary.sh: the release binary's build date
__build_date__: str | None = None
