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


class ContainerInfo:
    """What a capture's container events (or the runtime, live) say of a
    container."""

    __slots__ = ("id", "image", "image_digest", "image_id", "image_repo", "image_tag",
                 "mounts", "name", "privileged", "type")

    def __init__(self, cid: str) -> None:
        self.id = cid
        self.name = ""
        self.image = ""
        self.image_repo = ""
        self.image_tag = ""
        self.image_id = ""
        self.image_digest = ""
        self.type = 0
        self.privileged = False
        self.mounts: list[dict] = []

    @classmethod
    def from_json(cls, doc: dict) -> ContainerInfo:
        c = doc.get("container", doc)
        info = cls(str(c.get("id", "")))
        info.name = str(c.get("name", ""))
        info.image = str(c.get("image", ""))
        info.image_repo = str(c.get("imagerepo", ""))  # not split from image: libsinsp
        info.image_tag = str(c.get("imagetag", ""))
        info.image_id = str(c.get("imageid", ""))
        info.image_digest = str(c.get("imagedigest", ""))
        info.type = int(c.get("type", 0) or 0)
        if "privileged" in c:
            info.privileged = bool(c["privileged"])
        mounts = c.get("Mounts") or c.get("mounts") or []
        info.mounts = [m for m in mounts if isinstance(m, dict)]
        return info

