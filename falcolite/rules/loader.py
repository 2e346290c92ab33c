"""The rules-file loader (falco-compat.md section 5): lists, macros and rules
with append, override, exceptions and redefinition, loaded file after file
into one state and recompiled after each file, with Falco's errors and
warnings."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import yaml

from ..filter import FilterSyntaxError, parse
from ..filter.ast import BoolOp, Compare, MacroRef, Node, Not, walk
from ..filter.compiler import FilterCompileError, compile_filter
from ..filter.fields import FieldContext, FieldError, lookup
from ..filter.specialize import specialize
from ..outputs.formatter import FormatError, Formatter
from .evttypes import EventTypeError, derive_event_types
from .priority import PriorityError, parse_priority

ENGINE_VERSION = (0, 57, 0)
SOURCES = ("syscall", "k8s_audit")

try:  # the C loader: ten times faster on big rules files
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader


class RulesError(Exception):
    """A load error; the message is Falco's text (without the Lua position)."""


@dataclass
class ListDef:
    name: str
    items: list[str]
    used: bool = False


@dataclass
class MacroDef:
    name: str
    condition: str
    source: str = "syscall"
    used: bool = False
    ast: Node | None = None


@dataclass
class RuleDef:
    name: str
    condition: str
    output: str
    desc: str
    priority: str  # as written; `level` is the number
    level: int
    source: str = "syscall"
    enabled: bool = True
    tags: list[str] = field(default_factory=list)
    skip_if_unknown_filter: bool = False
    warn_evttypes: bool = True
    exceptions: list[dict] = field(default_factory=list)
    file: str = ""


@dataclass
class CompiledRule:
    """A rule ready to run: its predicate, output formatter and event types."""

    rule: RuleDef
    predicate: Callable
    formatter: Formatter | None
    evttypes: frozenset[str] | None  # None: all event types
    expanded: str  # the condition with lists and macros substituted
    # the predicate for events of one type (None: cannot match them)
    for_type: Callable[[int], Callable | None]
    condition: Node  # `expanded` as a tree

    @property
    def name(self) -> str:
        return self.rule.name


@dataclass
class LoadResult:
    rules: list[CompiledRule]
    warnings: list[str]
    verbose_lines: list[str]  # -v lines (stderr): event types per rule
    verbose_stdout: list[str]  # -v lines (stdout): skipped rules, unused lists/macros
    files: list[tuple[str, str, int]]  # (path, text, required engine version)


def _always(e: object) -> bool:
    return True


def truthy(v: object) -> bool:
    """Lua truthiness: anything but false and nil."""
    return v is not None and v is not False


def _version_tuple(v: object) -> tuple[int, ...] | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return (0, v, 0)
    if isinstance(v, str):
        parts = v.strip().split(".")
        if all(p.isdigit() for p in parts) and 1 <= len(parts) <= 3:
            nums = [int(p) for p in parts]
            if len(nums) == 1:
                return (0, nums[0], 0)
            return tuple(nums + [0] * (3 - len(nums)))
    return None


def lua_dump(item: dict) -> str:
    """An approximation of Falco's Lua table dump for 'Unknown rule object'."""
    return "{" + ", ".join(f"{k}={v!r}" for k, v in item.items()) + "}"


class RulesLoader:
    """Loads rules files one after another into the same state."""

    def __init__(self, ctx: FieldContext, priority_floor: int = 7, all_events: bool = False,
                 extra_output: str = "", container_info: str | None = None) -> None:
        self.ctx = ctx
        self.floor = priority_floor
        self.all_events = all_events  # -A
        self.extra_output = extra_output  # -p text
        self.container_info = container_info  # -p c|k|m replacement
        self.lists: dict[str, ListDef] = {}
        self.macros: dict[str, MacroDef] = {}
        self.rules: dict[str, RuleDef] = {}
        self.skipped_below_floor: set[str] = set()
        self.files: list[tuple[str, str, int]] = []
        self.warnings: list[str] = []
        self.verbose_lines: list[str] = []
        self.verbose_stdout: list[str] = []
        self.compiled: list[CompiledRule] = []

    # ------------------------------------------------------------- loading
    def load_file(self, path: str) -> None:
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
        except OSError:
            raise RulesError(f"Could not open rules filename {path} for reading") from None
        self.load_text(text, path)

    def load_text(self, text: str, path: str = "<string>") -> None:
        try:
            doc = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as err:
            raise RulesError(f"{path}: {err}") from None
        required = 0
        if doc is None:
            doc = []
        if isinstance(doc, (str, int, float, bool)):
            raise RulesError(f'Rules content "{text}" is not yaml')
        if isinstance(doc, dict):  # a mapping loads nothing [quirk]
            doc = []
        for item in doc:
            if not isinstance(item, dict):
                raise RulesError(f"Unexpected element of type {_lua_type(item)}. "
                                 "Each element should be a yaml associative array.")
            if "required_engine_version" in item:
                required = self._engine_version(item["required_engine_version"])
            elif "required_plugin_versions" in item:
                self.warnings.append(f"{path}: required_plugin_versions is ignored "
                                     "(falcolite loads no plugins)")
            elif "macro" in item:
                self._macro(item)
            elif "list" in item:
                self._list(item)
            elif "rule" in item:
                self._rule(item, path)
            else:
                raise RulesError(f"Unknown rule object: {lua_dump(item)}")
        self.files.append((path, text, required))
        self.compile_all()

    def _engine_version(self, value: object) -> int:
        want = _version_tuple(value)
        if want is None:
            raise RulesError(f"Invalid required_engine_version: {value}")
        if want > ENGINE_VERSION:
            have = ".".join(map(str, ENGINE_VERSION))
            raise RulesError(f"Rules require engine version {value}, but engine version "
                             f"is {have}")
        return value if isinstance(value, int) else 0  # type: ignore[return-value]

    def _list(self, item: dict) -> None:
        name = item["list"]
        if "items" not in item:
            raise RulesError(f"Missing items in list with name {name}")
        items = [str(x) if not isinstance(x, str) else x for x in (item["items"] or [])]
        if _is_append(item):
            if name not in self.lists:
                raise RulesError(f"List {name} has 'append' key but no list by that name "
                                 "already exists")
            self.lists[name].items.extend(items)
        elif isinstance(item.get("override"), dict) and name in self.lists:
            self._override_list(name, item, items)
        else:
            old = self.lists.get(name)
            if old is not None:
                old.items = items
            else:
                self.lists[name] = ListDef(name, items)

    def _override_list(self, name: str, item: dict, items: list[str]) -> None:
        how = item["override"].get("items")
        if how == "append":
            self.lists[name].items.extend(items)
        else:
            self.lists[name].items = items

    def _macro(self, item: dict) -> None:
        name = item["macro"]
        if "condition" not in item:
            raise RulesError(f"Missing condition in macro with name {name}")
        cond = str(item["condition"])
        source = str(item.get("source", "syscall"))
        override = item.get("override")
        if _is_append(item) or (isinstance(override, dict) and
                                override.get("condition") == "append"):
            if name not in self.macros:
                raise RulesError(f"Macro {name} has 'append' key but no macro by that name "
                                 "already exists")
            self.macros[name].condition += " " + cond
        elif name in self.macros:
            self.macros[name].condition = cond
            self.macros[name].source = source
        else:
            self.macros[name] = MacroDef(name, cond, source)

    def _rule(self, item: dict, path: str) -> None:
        name = item["rule"]
        if isinstance(name, (dict, list)):
            raise RulesError("Missing name in rule")
        name = str(name)
        override = item.get("override")
        if _is_append(item):
            self._rule_append(name, item)
            return
        if isinstance(override, dict):
            self._rule_override(name, item, override)
            return
        if set(item) <= {"rule", "enabled"} and "enabled" in item:
            # [later] a rule item with only `enabled` toggles an existing rule
            if name not in self.rules:
                if name in self.skipped_below_floor:
                    return
                raise RulesError(f"Rule {name} has 'enabled' key but no rule by that name "
                                 "already exists")
            self.rules[name].enabled = item["enabled"] is not False
            return
        for key in ("condition", "output", "desc", "priority"):
            if key not in item:
                raise RulesError(f"Missing {key} in rule with name {name}")
        prio_text = str(item["priority"])
        try:
            level = parse_priority(prio_text)
        except PriorityError as err:
            raise RulesError(str(err)) from None
        if level > self.floor:
            # below the floor: the rule does not exist (an earlier definition
            # of the same name stays) [quirk]
            if name not in self.rules:
                self.skipped_below_floor.add(name)
            return
        rule = RuleDef(
            name=name, condition=str(item["condition"]), output=str(item["output"]),
            desc=str(item["desc"]), priority=prio_text, level=level,
            source=str(item.get("source", "syscall")),
            enabled=item.get("enabled") is not False,
            tags=[str(t) for t in item.get("tags") or []],
            skip_if_unknown_filter=truthy(item.get("skip-if-unknown-filter")),
            warn_evttypes=item.get("warn_evttypes") is not False,
            exceptions=list(item.get("exceptions") or []), file=path)
        old = self.rules.get(name)
        if old is not None:  # redefinition keeps the name's position
            self.rules[name] = rule
        else:
            self.rules[name] = rule
            self.skipped_below_floor.discard(name)

    def _rule_append(self, name: str, item: dict) -> None:
        if name not in self.rules:
            if name in self.skipped_below_floor:
                return
            raise RulesError(f"Rule {name} has 'append' key but no rule by that name "
                             "already exists")
        rule = self.rules[name]
        if "condition" in item:
            rule.condition += " " + str(item["condition"])
        if item.get("exceptions"):
            self._merge_exceptions(rule, item["exceptions"])
        if "condition" not in item and not item.get("exceptions"):
            raise RulesError(f"Missing condition in rule with name {name}")

    def _rule_override(self, name: str, item: dict, override: dict) -> None:
        if name not in self.rules:
            if name in self.skipped_below_floor:
                return
            raise RulesError(f"Rule {name} has 'override' key but no rule by that name "
                             "already exists")
        rule = self.rules[name]
        for key, how in override.items():
            if key not in item:
                raise RulesError(f"Rule {name} has an override for '{key}' but no value")
            value = item[key]
            if how == "append":
                if key == "condition":
                    rule.condition += " " + str(value)
                elif key == "output":
                    rule.output += " " + str(value)
                elif key == "desc":
                    rule.desc += " " + str(value)
                elif key == "tags":
                    rule.tags.extend(str(t) for t in value or [])
                elif key == "exceptions":
                    self._merge_exceptions(rule, value or [])
                else:
                    raise RulesError(f"Key '{key}' cannot be appended to, use 'replace' "
                                     "instead")
            elif how == "replace":
                self._replace_key(rule, key, value)
            else:
                raise RulesError(f"Invalid override operation for key '{key}': '{how}'")

    def _replace_key(self, rule: RuleDef, key: str, value: object) -> None:
        if key == "priority":
            try:
                rule.level = parse_priority(str(value))
            except PriorityError as err:
                raise RulesError(str(err)) from None
            rule.priority = str(value)
        elif key == "enabled":
            rule.enabled = value is not False
        elif key == "tags":
            rule.tags = [str(t) for t in value or []]  # type: ignore[union-attr]
        elif key == "exceptions":
            rule.exceptions = list(value or [])  # type: ignore[call-overload]
        elif key in ("condition", "output", "desc", "source"):
            setattr(rule, key, str(value))
        else:
            raise RulesError(f"Key '{key}' cannot be replaced")

    @staticmethod
    def _merge_exceptions(rule: RuleDef, extra: list) -> None:
        by_name = {x.get("name"): x for x in rule.exceptions if isinstance(x, dict)}
        for x in extra:
            if not isinstance(x, dict):
                continue
            old = by_name.get(x.get("name"))
            if old is not None and "values" in x:
                old.setdefault("values", [])
                old["values"] = list(old["values"] or []) + list(x["values"] or [])
            elif old is None:
                rule.exceptions.append(x)
                by_name[x.get("name")] = x

    # ------------------------------------------------------------ compiling
    def compile_all(self) -> None:
        """The second pass of falco-compat.md 5.3, over everything loaded."""
        self._expand_lists()
        compiled_macros: dict[str, Node] = {}
        for m in self.macros.values():
            m.used = False
        for lst in self.lists.values():
            lst.used = False
        for m in self.macros.values():
            text = self.substitute_lists(m.condition)
            ast = self._parse(text)
            self._check_macro_refs(ast, compiled_macros)
            expanded = self._expand(ast, compiled_macros, mark=False)
            if not self.all_events and m.source == "syscall":
                self._check_ignored(expanded, f"macro: {m.condition}")
            compiled_macros[m.name] = ast
            m.ast = ast
        self.compiled = []
        for rule in self.rules.values():
            c = self._compile_rule(rule, compiled_macros)
            if c is not None:
                self.compiled.append(c)
        self._unused_warnings(compiled_macros)

    def _expand_lists(self) -> None:
        done: dict[str, list[str]] = {}
        for lst in self.lists.values():
            items: list[str] = []
            for it in lst.items:
                if it in done:
                    items.extend(done[it])
                    self.lists[it].used = True
                else:
                    items.append(it)
            done[lst.name] = items
        self._expanded_lists = done

    _DELIM = r"[\s(),=]"

    def substitute_lists(self, text: str) -> str:
        """Textual list substitution (6.4): a list name as a whole word,
        bounded by whitespace, parentheses, commas or '=', becomes its
        items joined with ', '."""
        if text.strip() in self.lists:
            return text  # a lone name is a macro reference
        for name, items in self._expanded_lists.items():
            if not re.fullmatch(r"[A-Za-z0-9_]+", name) or name not in text:
                continue
            pattern = re.compile(rf"(^|{self._DELIM}){re.escape(name)}(?={self._DELIM}|$)")
            joined = ", ".join(items)

            def repl(m: re.Match, joined: str = joined, name: str = name) -> str:
                self.lists[name].used = True
                return m.group(1) + joined
            text = pattern.sub(repl, text)
        return text

    def _parse(self, text: str) -> Node:
        try:
            return parse(text)
        except FilterSyntaxError as err:
            raise RulesError(f'Compilation error when compiling "{text}": {err}') from None

    def _check_macro_refs(self, ast: Node, known: dict[str, Node]) -> None:
        for node in walk(ast):
            if isinstance(node, MacroRef) and node.name not in known:
                raise RulesError(_undefined_macro(ast, node))

    def _check_rule_refs(self, ast: Node, known: dict[str, Node]) -> None:
        """Undefined macros of a rule, reported before any expansion (the
        message's quoting depends on where the reference stands)."""
        self._check_macro_refs(ast, known)

    def _expand(self, ast: Node, macros: dict[str, Node], mark: bool = True) -> Node:
        """Macro references replaced by the macros' trees, recursively."""
        if isinstance(ast, MacroRef):
            body = macros.get(ast.name)
            if body is None:
                raise RulesError(_undefined_macro(ast, ast))
            if mark and ast.name in self.macros:
                self.macros[ast.name].used = True
            return self._expand(body, macros, mark)
        if isinstance(ast, BoolOp):
            return BoolOp(ast.op, tuple(self._expand(x, macros, mark) for x in ast.items),
                          ast.pos)
        if isinstance(ast, Not):
            return Not(self._expand(ast.item, macros, mark), ast.pos)
        return ast

    def _check_ignored(self, ast: Node, where: str) -> None:
        from .evttypes import ignored_names

        for node in walk(ast):
            if isinstance(node, Compare) and node.field in ("evt.type", "syscall.type"):
                kind = "event" if node.field == "evt.type" else "syscall"
                for v in ([node.value] if node.value is not None else list(node.values)):
                    if v.kind == "bare" and v.text in ignored_names(kind):
                        raise RulesError(f'Ignored {kind} "{v.text}" in {where}')

    def _compile_rule(self, rule: RuleDef, macros: dict[str, Node]) -> CompiledRule | None:
        cond_text = rule.condition
        if rule.exceptions:
            cond_text = f"({cond_text}){exceptions_condition(rule)}"
        text = self.substitute_lists(cond_text)
        ast = self._parse(text)
        self._check_rule_refs(ast, macros)
        expanded = self._expand(ast, macros)
        syscall = rule.source == "syscall"
        if syscall and not self.all_events:
            self._check_ignored(expanded, f"rule: {rule.name}")
        evttypes: frozenset[str] | None = None
        if syscall:
            try:
                evttypes, warning = derive_event_types(expanded, rule.condition)
            except EventTypeError as err:
                raise RulesError(f"{err}: {rule.condition}") from None
            if warning and rule.warn_evttypes:
                self.warnings.append(_evttype_warning(rule, warning))
            names = ",".join(sorted(evttypes)) if evttypes is not None else "all"
            self.verbose_lines.append(f"Event types/Syscalls for rule {rule.name}: {names}")
        # unknown fields (5.7)
        for node in walk(expanded):
            if isinstance(node, Compare):
                key = node.field if node.arg is None else f"{node.field}[{node.arg}]"
                try:
                    lookup(key)
                except FieldError:
                    if not syscall:
                        continue
                    if rule.skip_if_unknown_filter:
                        self.verbose_stdout.append(
                            f'Skipping rule "{rule.name}" that contains unknown filter {key}')
                        return None
                    raise RulesError(f'Rule "{rule.name}" contains unknown filter '
                                     f"{key}") from None
        if not syscall:
            return None  # k8s audit and plugin sources: loaded, never run here
        try:
            predicate = compile_filter(expanded, self.ctx)
        except FilterCompileError as err:
            raise RulesError(err.message) from None
        output = self.adjust_output(rule.output)
        try:
            formatter = Formatter(output, self.ctx, permissive=True)
        except FormatError as err:
            raise RulesError(f"Invalid output format '{output}': '{err}'") from None
        from ..filter.ast import render

        return CompiledRule(rule, predicate, formatter, evttypes, render(expanded),
                            self._type_specializer(expanded, predicate), expanded)

    def _type_specializer(self, expanded: Node, predicate: Callable
                          ) -> Callable[[int], Callable | None]:
        """Predicates of the condition specialized per event type; types
        that fold to the same condition share one compiled predicate."""
        compiled: dict[Node, Callable] = {expanded: predicate}

        def for_type(code: int) -> Callable | None:
            folded = specialize(expanded, code)
            if folded is False:
                return None
            if folded is True:
                return _always
            pred = compiled.get(folded)
            if pred is None:
                pred = compiled[folded] = compile_filter(folded, self.ctx)
            return pred
        return for_type

    def adjust_output(self, output: str) -> str:
        """3.1: trim, substitute %container.info, append the -p text."""
        out = output.strip()
        if "%container.info" in out:
            if self.container_info is not None:
                return out.replace("%container.info", self.container_info)
            repl = "%container.name (id=%container.id)"
            out = out.replace("%container.info", repl)
            return out + (" " + self.extra_output if self.extra_output else "")
        extra = self.container_info if self.container_info is not None else self.extra_output
        if extra:
            out += " " + extra
        return out

    def _unused_warnings(self, macros: dict[str, Node]) -> None:
        for m in self.macros.values():
            if not m.used:
                self.verbose_stdout.append(
                    f"Warning: macro {m.name} not refered to by any rule/macro")
        for lst in self.lists.values():
            if not lst.used:
                self.verbose_stdout.append(
                    f"Warning: list {lst.name} not refered to by any rule/macro/list")

    def result(self) -> LoadResult:
        return LoadResult(self.compiled, self.warnings, self.verbose_lines,
                          self.verbose_stdout, self.files)


def _is_append(item: dict) -> bool:
    return truthy(item.get("append")) and item.get("append") is not False


def _lua_type(v: object) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "table"
    return "nil" if v is None else type(v).__name__


def _undefined_macro(root: Node, ref: MacroRef) -> str:
    """Falco quotes the name when the macro is the whole condition or the
    left operand of and/or, and not otherwise [quirk]."""
    parent = _parent_of(root, ref)
    quoted = parent is None or (isinstance(parent, BoolOp) and parent.items[0] is ref)
    name = f"'{ref.name}'" if quoted else ref.name
    return f"Undefined macro {name} used in filter."


def _parent_of(root: Node, target: Node) -> Node | None:
    for node in walk(root):
        kids = node.items if isinstance(node, BoolOp) else (
            (node.item,) if isinstance(node, Not) else ())
        if any(k is target for k in kids):
            return node
    return None


def exceptions_condition(rule: RuleDef) -> str:
    """`and not (...)` built from a rule's exceptions, as Falco does."""
    parts: list[str] = []
    for exc in rule.exceptions:
        if not isinstance(exc, dict):
            raise RulesError(f"Rule {rule.name}: exceptions must be mappings")
        name = exc.get("name")
        fields = exc.get("fields")
        comps = exc.get("comps")
        values = exc.get("values") or []
        if fields is None:
            raise RulesError(f"Rule {rule.name} exception {name}: missing fields")
        if isinstance(fields, str):
            comp = comps if isinstance(comps, str) else "in"
            vals = ", ".join(_quote(v) for v in values)
            if values:
                parts.append(f"{fields} {comp} ({vals})")
            continue
        comps = comps if isinstance(comps, list) else ["="] * len(fields)
        if len(comps) != len(fields):
            raise RulesError(f"Rule {rule.name} exception {name}: fields and comps lengths "
                             "differ")
        for tup in values:
            if not isinstance(tup, list) or len(tup) != len(fields):
                raise RulesError(f"Rule {rule.name} exception {name}: values must be lists "
                                 f"of {len(fields)} items")
            conj = []
            for f, cmp, v in zip(fields, comps, tup, strict=True):
                if cmp in ("in", "pmatch", "intersects"):
                    items = v if isinstance(v, list) else [v]
                    conj.append(f"{f} {cmp} ({', '.join(_quote(x) for x in items)})")
                else:
                    conj.append(f"{f} {cmp} {_quote(v)}")
            parts.append("(" + " and ".join(conj) + ")")
    if not parts:
        return ""
    return " and not (" + " or ".join(parts) + ")"


def _quote(v: object) -> str:
    s = str(v)
    if re.fullmatch(r"[A-Za-z0-9_./:*@+-]+", s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _evttype_warning(rule: RuleDef, kind: str) -> str:
    pad = " " * 9
    if kind == "no-evttype":
        return (f"Rule {rule.name}: warning (no-evttype):\n{rule.condition}\n"
                f"{pad}did not contain any evt.type restriction, meaning it will run for "
                "all event types.\n"
                f"{pad}This has a significant performance penalty. Consider adding an "
                "evt.type restriction if possible.")
    return (f"Rule {rule.name}: warning (trailing-evttype):\n{rule.condition}\n"
            f"{pad}does not have all evt.type restrictions at the beginning of the "
            "condition,\n"
            f"{pad}or uses a negative match (i.e. \"not\"/\"!=\") for some evt.type "
            "restriction.\n"
            f"{pad}This has a performance penalty, as the rule can not be limited to "
            "specific event types.\n"
            f"{pad}Consider moving all evt.type restrictions to the beginning of the rule "
            "and/or\n"
            f"{pad}replacing negative matches with positive matches if possible.")
