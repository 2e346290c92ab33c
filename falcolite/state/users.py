"""Users and groups: names for uids and gids, from the capture's user list
(live: /etc/passwd and /etc/group)."""

from __future__ import annotations

from ..events.records import GroupRecord, UserRecord
from .threads import text


class UserTable:
    def __init__(self, users: list[UserRecord] | None = None,
                 groups: list[GroupRecord] | None = None) -> None:
        self.users = {u.uid: u for u in users or ()}
        self.groups = {g.gid: g for g in groups or ()}
        self._names: dict[int, str] = {u.uid: text(u.name) for u in users or ()}
        self._gnames: dict[int, str] = {g.gid: text(g.name) for g in groups or ()}

    def user_name(self, uid: int) -> str | None:
        return self._names.get(uid)

    def group_name(self, gid: int) -> str | None:
        return self._gnames.get(gid)

    def home(self, uid: int) -> str | None:
        u = self.users.get(uid)
        return text(u.homedir) if u else None

    def shell(self, uid: int) -> str | None:
        u = self.users.get(uid)
        return text(u.shell) if u else None
