"""Container ids from cgroup paths (docker, containerd/CRI-O, podman,
libpod): the 12-character short id, or "host"."""

from __future__ import annotations

import re

# a 64-hex id at the end of a cgroup path component, with the runtimes'
# usual prefixes and suffixes (docker-<id>.scope, cri-containerd-<id>.scope,
# crio-<id>, libpod-<id>, /docker/<id>, /kubepods/.../<id>)
_ID = re.compile(r"(?:^|[/-])([0-9a-f]{64})(?:\.scope)?$")


def container_id(cgroups: list[str]) -> str:
    for entry in cgroups:
        _subsys, _, path = entry.partition("=")
        m = _ID.search(path)
        if m:
            return m.group(1)[:12]
    return "host"
