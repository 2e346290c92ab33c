"""Rule priorities: Falco's eight levels, matched as case-insensitive
prefixes (`warn`, `INFO`, `crit`...) in order of severity."""

from __future__ import annotations

NAMES = ("Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational",
         "Debug")
SYSLOG_NAMES = ("emergency", "alert", "critical", "error", "warning", "notice", "informational",
                "debug")


class PriorityError(Exception):
    pass


def parse_priority(text: str) -> int:
    """0 (Emergency) .. 7 (Debug); the first level the text is a prefix of."""
    low = text.lower()
    if low:
        for level, name in enumerate(SYSLOG_NAMES):
            if name.startswith(low):
                return level
    raise PriorityError(f"Invalid priority level: {low}")


def parse_floor(text: str) -> int:
    """The config's `priority`: full names only, any case."""
    low = text.lower()
    if low in SYSLOG_NAMES:
        return SYSLOG_NAMES.index(low)
    raise PriorityError(f'Unknown priority "{text}"--must be one of emergency, alert, '
                        "critical, error, warning, notice, informational, debug")
