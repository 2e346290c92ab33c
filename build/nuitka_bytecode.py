"""Nuitka user plugin (build/build_binary.sh passes it with --user-plugin):
falcolite's own modules and PyYAML's Python half go into the binary as
bytecode, run by the bundled CPython 3.11 interpreter, unless
FALCOLITE_PY_CODE=compiled.

Measured with bench/binary.py on the 2M-event capture: compiled to C, the
per-event code (attribute lookups on events, thread and fd objects, small
method calls) runs at 0.99x CPython and the whole rules run at 0.90x, since
compiled code does not get 3.11's specialising interpreter and its inline
caches; as bytecode, 1.02x and 0.98x (start-up included), in a binary
0.9 MB smaller.  The entry point (falcolite.__main__) is always compiled:
Nuitka needs it so.
"""

from __future__ import annotations

import os

from nuitka.plugins.PluginBase import NuitkaPluginBase

# PyYAML's Python half (constructors, resolver) loads the rules files
BYTECODE_PACKAGES = frozenset(("falcolite", "yaml"))


class NuitkaPluginFalcoliteBytecode(NuitkaPluginBase):
    plugin_name = "falcolite-bytecode"
    plugin_desc = "Ship falcolite's modules as bytecode (FALCOLITE_PY_CODE=compiled: C)."

    @staticmethod
    def is_alwaysEnabled() -> bool:
        return True

    def decideCompilation(self, module_name: object) -> str | None:
        name = str(module_name)
        if os.environ.get("FALCOLITE_PY_CODE", "bytecode") == "compiled":
            return None
        if name == "falcolite.__main__":
            return None
        top = name.partition(".")[0]
        return "bytecode" if top in BYTECODE_PACKAGES else None
