"""Nuitka user plugin (build/build_binary.sh passes it with --user-plugin):
strips the debug information from the shared objects of the standalone
folder before it is packed into the onefile binary.

Nuitka strips its own binary but copies extension modules and libraries as
they are; pyenv's lib-dynload modules and PyYAML's _yaml carry their debug
info (about 7 MB of the 36 MB that every start checks or unpacks).
"""

from __future__ import annotations

import os
import subprocess

from nuitka.plugins.PluginBase import NuitkaPluginBase


class NuitkaPluginFalcoliteStrip(NuitkaPluginBase):
    plugin_name = "falcolite-strip"
    plugin_desc = "Strip debug info from the shared objects of the standalone folder."

    @staticmethod
    def is_alwaysEnabled() -> bool:
        return True

    def onStandaloneDistributionFinished(self, dist_dir: str) -> None:
        before = after = 0
        for folder, _dirs, files in os.walk(dist_dir):
            for name in files:
                path = os.path.join(folder, name)
                if os.path.islink(path) or ".so" not in name:
                    continue
                with open(path, "rb") as f:
                    if f.read(4) != b"\x7fELF":
                        continue
                size = os.path.getsize(path)
                subprocess.run(["strip", "--strip-debug", path], check=True)
                before += size
                after += os.path.getsize(path)
        self.info(f"Stripped shared objects: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB.")
