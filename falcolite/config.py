"""falco.yaml: loading, `-o` overrides, typed reads with Falco's defaults
and messages (falco-compat.md section 2)."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

TRUE = {"y", "yes", "true", "on"}
FALSE = {"n", "no", "false", "off"}
LOG_LEVELS = ("emergency", "alert", "critical", "error", "warning", "notice", "info", "debug")
DROP_ACTIONS = ("ignore", "log", "alert", "exit")


class ConfigError(Exception):
    """A configuration error; the message is Falco's."""


def _yaml_bool_forms(words: set[str]) -> set[str]:
    return {f for w in words for f in (w, w.upper(), w.capitalize())}


_TRUE_FORMS = _yaml_bool_forms(TRUE)
_FALSE_FORMS = _yaml_bool_forms(FALSE)


class RawConfig:
    """The YAML document as nested dicts, with the typed reads."""

    def __init__(self, data: dict | None, path: str) -> None:
        self.data = data if isinstance(data, dict) else {}
        self.path = path

    @classmethod
    def load(cls, path: str) -> RawConfig:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            raise ConfigError(f"Could not find configuration file at {path}") from None
        try:
            # every scalar as text, as yaml-cpp sees it: typed reads convert
            data = yaml.load(text, Loader=_StringLoader)
        except yaml.YAMLError as err:
            raise ConfigError(f"Cannot read config file ({path}): {err}") from None
        return cls(data, path)

    def override(self, option: str) -> None:
        """`-o key=value` or `key.subkey=value`: the value replaces the node
        as a string scalar."""
        if "=" not in option:
            raise ConfigError(f'Error parsing config option "{option}". Must be of the form '
                              "key=val or key.subkey=val")
        key, _, value = option.partition("=")
        top, dot, sub = key.partition(".")
        if dot:
            node = self.data.get(top)
            if not isinstance(node, dict):
                node = {}
                self.data[top] = node
            node[sub] = value
        else:
            self.data[top] = value

    def node(self, key: str, sub: str | None = None) -> object:
        node = self.data.get(key)
        if sub is not None:
            node = node.get(sub) if isinstance(node, dict) else None
        return node

    def get_bool(self, key: str, default: bool, sub: str | None = None) -> bool:
        v = self.node(key, sub)
        if v is None:
            return default
        if isinstance(v, bool):
            return v
        if isinstance(v, str):
            if v in _TRUE_FORMS:
                return True
            if v in _FALSE_FORMS:
                return False
        raise ConfigError(f"Cannot read config file ({self.path}): wrong type at key {key}")

    def get_str(self, key: str, default: str, sub: str | None = None) -> str:
        v = self.node(key, sub)
        if v is None:
            return default
        if isinstance(v, (dict, list)):
            raise ConfigError(f"Cannot read config file ({self.path}): wrong type at key {key}")
        return str(v)

    def get_num(self, key: str, default: float, sub: str | None = None,
                integer: bool = False) -> float:
        v = self.node(key, sub)
        if v is None:
            return default
        try:
            if integer:
                n = int(str(v), 10)
                if n < 0:
                    raise ValueError
                return n
            return float(str(v))
        except ValueError:
            raise ConfigError(f"Cannot read config file ({self.path}): wrong type at key "
                              f"{key}") from None

    def get_sequence(self, key: str, sub: str | None = None) -> list[str]:
        """Items of a sequence, a lone scalar as one item, nothing if absent."""
        v = self.node(key, sub)
        if v is None:
            return []
        if isinstance(v, list):
            return [str(x) for x in v if x is not None]
        if isinstance(v, dict):
            return []
        return [str(v)]


class _StringLoader(yaml.SafeLoader):
    pass


def _as_string(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
    value = loader.construct_scalar(node)
    return None if value in ("", "~", "null", "Null", "NULL") and node.style is None else value


_StringLoader.add_constructor("tag:yaml.org,2002:bool", _as_string)
_StringLoader.add_constructor("tag:yaml.org,2002:int", _as_string)
_StringLoader.add_constructor("tag:yaml.org,2002:float", _as_string)
_StringLoader.add_constructor("tag:yaml.org,2002:null", _as_string)
_StringLoader.add_constructor("tag:yaml.org,2002:timestamp", _as_string)


@dataclass
class Config:
    path: str | None = None
    rules_files: list[str] = field(default_factory=list)
    json_output: bool = False
    json_include_output_property: bool = True
    json_include_tags_property: bool = True
    json_include_hostname_property: bool = True
    json_include_source_property: bool = True
    log_stderr: bool = False
    log_syslog: bool = True
    log_level: str = "info"
    priority: str = "debug"
    buffered_outputs: bool = False
    outputs_rate: float = 1.0
    outputs_max_burst: float = 1000.0
    drop_actions: list[str] = field(default_factory=lambda: ["ignore"])
    drop_rate: float = 0.3333
    drop_max_burst: float = 10.0
    simulate_drops: bool = False
    file_output: dict = field(default_factory=dict)
    stdout_output: bool = False
    syslog_output: bool = False
    program_output: dict = field(default_factory=dict)
    http_output: dict = field(default_factory=dict)
    time_format_iso_8601: bool = False
    webserver_enabled: bool = False
    ring_bytes: int = 8 << 20  # the live probe's ring buffer

    @classmethod
    def defaults_no_file(cls) -> Config:
        """2.7: no configuration file: only the stdout channel."""
        return cls(stdout_output=True)

    @classmethod
    def from_raw_nofile(cls, raw: RawConfig) -> Config:
        """No file, but -o overrides: the defaults of 2.2 plus the overrides,
        with stdout as the channel unless the overrides enable another."""
        raw.data.setdefault("stdout_output", {"enabled": "true"})
        return cls.from_raw(raw)

    @classmethod
    def from_raw(cls, raw: RawConfig) -> Config:
        c = cls(path=raw.path)
        c.rules_files = raw.get_sequence("rules_file")
        c.json_output = raw.get_bool("json_output", False)
        c.json_include_output_property = raw.get_bool("json_include_output_property", True)
        c.json_include_tags_property = raw.get_bool("json_include_tags_property", True)
        c.json_include_hostname_property = raw.get_bool("json_include_hostname_property",
                                                        True)
        c.json_include_source_property = raw.get_bool("json_include_source_property", True)
        c.log_stderr = raw.get_bool("log_stderr", False)
        c.log_syslog = raw.get_bool("log_syslog", True)
        c.log_level = raw.get_str("log_level", "info")
        if c.log_level not in LOG_LEVELS:
            raise ConfigError(f"Unknown log level {c.log_level}")
        c.priority = raw.get_str("priority", "debug")
        c.buffered_outputs = raw.get_bool("buffered_outputs", False)
        c.outputs_rate = raw.get_num("outputs", 1, "rate", integer=True)
        c.outputs_max_burst = raw.get_num("outputs", 1000, "max_burst", integer=True)
        actions = raw.get_sequence("syscall_event_drops", "actions")
        for a in actions:
            if a not in DROP_ACTIONS:
                raise ConfigError(f"Error reading config file ({raw.path}): syscall event drop "
                                  f'action {a} must be one of "ignore", "log", "alert", or "exit"')
        c.drop_actions = actions or ["ignore"]
        c.drop_rate = raw.get_num("syscall_event_drops", 0.3333, "rate")
        c.drop_max_burst = raw.get_num("syscall_event_drops", 10, "max_burst")
        c.simulate_drops = raw.get_bool("syscall_event_drops", False, "simulate_drops")
        c.time_format_iso_8601 = raw.get_bool("time_format_iso_8601", False)
        c.webserver_enabled = raw.get_bool("webserver", False, "enabled")
        c.ring_bytes = _ring_bytes(raw)
        c.stdout_output = raw.get_bool("stdout_output", False, "enabled")
        c.syslog_output = raw.get_bool("syslog_output", False, "enabled")
        c.file_output = _target_output(raw, "file", "filename")
        c.program_output = _target_output(raw, "program", "program")
        if raw.get_bool("http_output", False, "enabled"):
            url = raw.get_str("http_output", "", "url")
            if not url:
                raise ConfigError(f"Error reading config file ({raw.path}): http output "
                                  "enabled but no url in configuration block")
            c.http_output = {"url": url}
        if not (c.stdout_output or c.syslog_output or c.file_output or c.program_output or
                c.http_output):
            raise ConfigError(f"Error reading config file ({raw.path}): No outputs "
                              "configured. Please configure at least one output file output "
                              "enabled but no filename in configuration block")
        return c


def _target_output(raw: RawConfig, kind: str, key: str) -> dict:
    """file_output or program_output: {key: its target, "keep_alive": bool}
    when enabled (the target is then required), else empty."""
    block = f"{kind}_output"
    if not raw.get_bool(block, False, "enabled"):
        return {}
    target = raw.get_str(block, "", key)
    if not target:
        raise ConfigError(f"Error reading config file ({raw.path}): {kind} output "
                          f"enabled but no {key} in configuration block")
    return {key: target, "keep_alive": raw.get_str(block, "", "keep_alive") == "true"}


def _ring_bytes(raw: RawConfig) -> int:
    """The live ring buffer: Falco's `syscall_buf_size_preset` (1..10 for 1
    to 512 MiB, 4 = 8 MiB the default), or an exact `live.ring_bytes` (a
    power of two of at least 4096; small rings are for tests)."""
    exact = int(raw.get_num("live", 0, "ring_bytes", integer=True))
    if exact:
        if exact < 4096 or exact & (exact - 1):
            raise ConfigError(f"Error reading config file ({raw.path}): live.ring_bytes "
                              f"must be a power of two of at least 4096, not {exact}")
        return exact
    preset = int(raw.get_num("syscall_buf_size_preset", 4, integer=True))
    if not 1 <= preset <= 10:
        raise ConfigError(f"Error reading config file ({raw.path}): "
                          f"syscall_buf_size_preset must be between 1 and 10, not {preset}")
    return 1 << (19 + preset)
