"""Tokenizer and parser of the condition language (falco-compat.md 6.1-6.3)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import SHARED
from hypothesis import given, settings
from hypothesis import strategies as st

from falcolite.filter import (
    BoolOp,
    Compare,
    FilterSyntaxError,
    MacroRef,
    Not,
    Value,
    parse,
    render,
    walk,
)
from falcolite.filter.lexer import number_text

RULES_DIR = SHARED / "falco-rules"


def cmp(field: str, op: str, value: Value | None = None, *values: Value,
        arg: str | None = None) -> Compare:
    return Compare(field, arg, op, value, tuple(values))


def bare(text: str) -> Value:
    return Value(text, "bare")


def num(text: str) -> Value:
    return Value(text, "number")


def string(text: str) -> Value:
    return Value(text, "string")


def m(name: str) -> MacroRef:
    return MacroRef(name)


def roundtrip(text: str) -> None:
    node = parse(text)
    assert parse(render(node)) == node


# --- operators ------------------------------------------------------------

@pytest.mark.parametrize("op", [
    "=", "!=", "<", "<=", ">", ">=", "contains", "icontains", "bcontains",
    "startswith", "bstartswith", "endswith", "glob",
])
def test_single_value_operators(op: str) -> None:
    node = parse(f"proc.name {op} foo")
    assert node == cmp("proc.name", op, bare("foo"))
    assert node.values == ()
    assert render(node) == f"proc.name {op} foo"
    if not op[0].isalpha():
        assert parse(f"proc.name{op}foo") == node


@pytest.mark.parametrize("op", ["in", "pmatch", "intersects"])
def test_list_operators(op: str) -> None:
    node = parse(f"fd.name {op} (/etc, '/usr bin', 7)")
    assert node == cmp("fd.name", op, None, bare("/etc"), string("/usr bin"), num("7"))
    assert node.value is None
    assert parse(f"fd.name {op}(a)") == cmp("fd.name", op, None, bare("a"))
    roundtrip(f"fd.name {op} (/etc, '/usr bin', 7)")


def test_exists() -> None:
    node = parse("proc.pname exists")
    assert node == cmp("proc.pname", "exists")
    assert node.value is None and node.values == ()
    assert parse("not proc.pname exists") == Not(cmp("proc.pname", "exists"))


def test_double_equals_is_equals() -> None:
    assert parse("proc.name == foo") == parse("proc.name = foo")
    assert parse("proc.name==foo").op == "="
    assert parse("evt.dir==<").value == bare("<")


def test_operators_without_spaces() -> None:
    assert parse("fd.num>=0") == cmp("fd.num", ">=", num("0"))
    assert parse("fd.num<=0") == cmp("fd.num", "<=", num("0"))
    assert parse("fd.num<5") == cmp("fd.num", "<", num("5"))
    assert parse("proc.name!=foo") == cmp("proc.name", "!=", bare("foo"))
    assert parse('proc.name="a b"') == cmp("proc.name", "=", string("a b"))
    # After an operator, `<`, `>` and `!` start bare values.
    assert parse("evt.dir=<") == cmp("evt.dir", "=", bare("<"))
    assert parse("evt.dir = >") == cmp("evt.dir", "=", bare(">"))
    assert parse("evt.dir=>") == cmp("evt.dir", "=", bare(">"))
    assert parse("evt.dir!=<") == cmp("evt.dir", "!=", bare("<"))
    assert parse("proc.name=!x") == cmp("proc.name", "=", bare("!x"))
    assert parse("evt.dir=< and fd.num>=0") == BoolOp("and", (
        cmp("evt.dir", "=", bare("<")), cmp("fd.num", ">=", num("0"))))


# --- precedence and grouping ----------------------------------------------

def test_precedence() -> None:
    assert parse("a or b and not c") == BoolOp("or", (m("a"), BoolOp("and", (m("b"), Not(m("c"))))))
    assert parse("not a and b") == BoolOp("and", (Not(m("a")), m("b")))
    assert parse("a and b or c") == BoolOp("or", (BoolOp("and", (m("a"), m("b"))), m("c")))
    assert parse("not not a") == Not(Not(m("a")))


def test_chains_are_flattened_in_order() -> None:
    assert parse("a and b and c") == BoolOp("and", (m("a"), m("b"), m("c")))
    assert parse("a or b or c and d or e") == BoolOp("or", (
        m("a"), m("b"), BoolOp("and", (m("c"), m("d"))), m("e")))


def test_nested_parentheses() -> None:
    assert parse("((a))") == m("a")
    assert parse("((a or (b)) and c)") == BoolOp("and", (BoolOp("or", (m("a"), m("b"))), m("c")))
    # A parenthesized operand of the same operator stays a nested node.
    assert parse("(a and b) and c") == BoolOp("and", (BoolOp("and", (m("a"), m("b"))), m("c")))
    assert parse("not (a or b)") == Not(BoolOp("or", (m("a"), m("b"))))
    assert parse("not(a)") == Not(m("a"))
    assert parse("(proc.name=a)and(proc.name=b)") == BoolOp("and", (
        cmp("proc.name", "=", bare("a")), cmp("proc.name", "=", bare("b"))))


def test_nesting_limit() -> None:
    assert parse("(" * 100 + "a" + ")" * 100) == m("a")
    with pytest.raises(FilterSyntaxError) as e:
        parse("(" * 101 + "a" + ")" * 101)
    assert e.value.pos == 100
    with pytest.raises(FilterSyntaxError):
        parse("not " * 5000 + "a")


# --- value lists ------------------------------------------------------------

@pytest.mark.parametrize(("text", "values"), [
    ("(a, b c)", ["a", "b", "c"]),
    ("(a,,b)", ["a", "b"]),
    ("()", []),
    ("( )", []),
    ("(,)", []),
    ("(a,)", ["a"]),
    ("(, a b)", ["a", "b"]),
    ("(a , b ,c)", ["a", "b", "c"]),
    ("(a,\n  b)", ["a", "b"]),
    ("(runc:[0:PARENT], runc)", ["runc:[0:PARENT]", "runc"]),
])
def test_value_lists(text: str, values: list[str]) -> None:
    node = parse("proc.name in " + text)
    assert [v.text for v in node.values] == values
    roundtrip("proc.name in " + text)


def test_value_list_kinds() -> None:
    node = parse("""fd.sport in (80, 0x1F, "<NA>",'N/A', ssh)""")
    assert [(v.text, v.kind) for v in node.values] == [
        ("80", "number"), ("0x1F", "number"), ("<NA>", "string"), ("N/A", "string"),
        ("ssh", "bare")]


# --- fields -----------------------------------------------------------------

@pytest.mark.parametrize(("text", "field", "arg"), [
    ("proc.aname[2]", "proc.aname", "2"),
    ("container.mount.dest[/var/run/docker.sock]", "container.mount.dest", "/var/run/docker.sock"),
    ("container.mount.dest[/proc*]", "container.mount.dest", "/proc*"),
    ("ka.req.pod.volumes.hostpath[/var/run/docker.sock]", "ka.req.pod.volumes.hostpath",
     "/var/run/docker.sock"),
    ("fd.types[]", "fd.types", ""),
    ("evt.arg[a-b_c.d:e?]", "evt.arg", "a-b_c.d:e?"),
    ('k8s.pod.label["app name"]', "k8s.pod.label", "app name"),
    ("evt.arg.flags", "evt.arg.flags", None),
    ("proc.aname", "proc.aname", None),
    ("evt.arg.0", "evt.arg.0", None),
])
def test_field_arguments(text: str, field: str, arg: str | None) -> None:
    node = parse(f"{text} = x")
    assert (node.field, node.arg, node.field_text, node.pos) == (field, arg, text, 0)
    roundtrip(f"{text} = x")
    assert parse(f"{text} exists") == Compare(field, arg, "exists")


def test_field_text_from_parts_when_built_by_hand() -> None:
    assert render(Compare("proc.aname", "2", "=", num("1"))) == "proc.aname[2] = 1"
    assert render(Compare("k8s.pod.label", "a b", "exists")) == 'k8s.pod.label["a b"] exists'


# --- keywords ---------------------------------------------------------------

def test_keywords_glued_to_identifiers() -> None:
    assert parse("notx") == m("notx")
    assert parse("not x") == Not(m("x"))
    assert parse("andy or orz") == BoolOp("or", (m("andy"), m("orz")))
    assert parse("not_a and innie") == BoolOp("and", (m("not_a"), m("innie")))
    assert parse("not.x = 1") == cmp("not.x", "=", num("1"))
    assert parse("proc.name in(a)") == cmp("proc.name", "in", None, bare("a"))
    # Keywords in value positions are values.
    assert parse("proc.name = and") == cmp("proc.name", "=", bare("and"))
    assert parse("proc.name in (or, not)").values == (bare("or"), bare("not"))
    for text in ("a andb", "proc.name containsx y", "proc.name existsx", "proc.name inx (a)"):
        with pytest.raises(FilterSyntaxError):
            parse(text)


# --- values -----------------------------------------------------------------

@pytest.mark.parametrize(("text", "kind"), [
    ("0", "number"), ("42", "number"), ("0x1F", "number"), ("0XaB", "number"),
    ("1.5", "number"), (".5", "number"), ("1e5", "number"), ("1E-3", "number"),
    ("0755", "number"), ("1.", "number"),
    # Runs that only start like numbers are bare strings (today's Falco).
    ("127.0.0.1", "bare"), ("1password", "bare"), ("50vcs-commit", "bare"),
    ("0x", "bare"), ("1e", "bare"), ("-1", "bare"), (".", "bare"), ("0x1G", "bare"),
    ("/usr/bin", "bare"), ("O_CREAT", "bare"), ("k8s.gcr.io/x", "bare"), ("<", "bare"),
    ("a'b", "bare"),
])
def test_value_kinds(text: str, kind: str) -> None:
    assert parse(f"fd.num = {text}").value == Value(text, kind)
    roundtrip(f"fd.num = {text}")


@pytest.mark.parametrize(("text", "decimal"), [
    ("0x1f", "31"), ("0755", "755"), ("1e5", "100000"), ("1.5", "1.5"), (".5", "0.5"),
    ("5000000000", "5000000000"), ("123456789012345678", "1.2345678901235e+17"),
])
def test_number_text(text: str, decimal: str) -> None:
    assert number_text(text) == decimal


@pytest.mark.parametrize(("text", "content"), [
    (r'"a\"b"', 'a"b'),
    (r"'a\'b'", "a'b"),
    (r"'say \"hi\"'", 'say "hi"'),
    (r'"\a\b\f\n\r\t\v"', "\a\b\f\n\r\t\v"),
    (r'"c:\\dir"', "c:\\dir"),
    ('"line\\\nnext"', "line\nnext"),
    ('"a\'b"', "a'b"),
    ("'a\"b'", 'a"b'),
    ('""', ""),
    ('"x, (y) = z"', "x, (y) = z"),
    # Today's Falco reads `\ ` as a backslash (used by the sandbox rules).
    (r'"\ "', "\\"),
    (r'"a\/b"', "a/b"),
])
def test_quoted_strings(text: str, content: str) -> None:
    node = parse(f"proc.args contains {text}")
    assert node.value == string(content)
    roundtrip(f"proc.args contains {text}")


# --- positions --------------------------------------------------------------

def test_positions() -> None:
    text = 'evt.type = open and\n  (proc.name in (a, "b") or not m1) and fd.num>=0x10'
    node = parse(text)
    assert isinstance(node, BoolOp) and node.pos == 0
    c1, ors, c3 = node.items
    assert c1.pos == 0 and c1.value.pos == text.index("open")
    assert ors.pos == text.index("proc.name")
    lst, neg = ors.items
    assert lst.pos == text.index("proc.name")
    assert [v.pos for v in lst.values] == [text.index("a,"), text.index('"b"')]
    assert neg.pos == text.index("not") and neg.item.pos == text.index("m1")
    assert c3.pos == text.index("fd.num") and c3.value.pos == text.index("0x10")
    # A parenthesized first operand: the and/or node starts at its `(`.
    assert parse("(a) and b").pos == 0
    assert parse("  (a and b)").pos == 3


def test_equality_ignores_positions() -> None:
    assert parse("a and proc.name=x") == parse("  a   and\tproc.name  =  x")
    assert hash(parse("proc.name=x")) == hash(Compare("proc.name", None, "=", bare("x")))


# --- walk and render ----------------------------------------------------------

def test_walk_preorder() -> None:
    node = parse("a and (b or not c) and proc.name=x")
    kinds = [(type(n).__name__, getattr(n, "name", getattr(n, "op", None))) for n in walk(node)]
    assert kinds == [
        ("BoolOp", "and"), ("MacroRef", "a"), ("BoolOp", "or"), ("MacroRef", "b"),
        ("Not", None), ("MacroRef", "c"), ("Compare", "=")]


@pytest.mark.parametrize(("text", "rendered"), [
    ("a.x=b and (c or not d)", "a.x = b and (c or not d)"),
    ("not (a and b)", "not (a and b)"),
    ("(a and b) and c", "(a and b) and c"),
    ("a or b and c", "a or (b and c)"),
    ("proc.name in (a,,b c)", "proc.name in (a, b, c)"),
    ("proc.name in ()", "proc.name in ()"),
    ("proc.aname[2] exists", "proc.aname[2] exists"),
    ("proc.cmdline contains 'a \"q\" \\\\'", 'proc.cmdline contains "a \\"q\\" \\\\"'),
    ("fd.num==0x1F", "fd.num = 0x1F"),
])
def test_render(text: str, rendered: str) -> None:
    assert render(parse(text)) == rendered
    roundtrip(text)


def test_render_hand_built_values() -> None:
    # Values that would not read back bare get quoted.
    node = Compare("proc.name", None, "in", None, (bare("a b"), bare(""), bare("12"), bare("'x")))
    assert parse(render(node)).values == (
        string("a b"), string(""), string("12"), string("'x"))


# --- errors -----------------------------------------------------------------

VALUE = "'BareString', 'String', 'Number'"
PRIMARY = "'(', 'not', 'FieldName', 'Identifier'"


@pytest.mark.parametrize(("text", "pos", "message"), [
    ("", 0, f"1: syntax error, unexpected 'EOF', expecting {PRIMARY}"),
    ("   ", 3, f"4: syntax error, unexpected 'EOF', expecting {PRIMARY}"),
    ("# a comment", 0, f"1: syntax error, unexpected '#', expecting {PRIMARY}"),
    ("proc.name = = x", 12, f"13: syntax error, unexpected '=', expecting {VALUE}"),
    ("proc.name =", 11, f"12: syntax error, unexpected 'EOF', expecting {VALUE}"),
    ("proc.name = (a)", 12, f"13: syntax error, unexpected '(', expecting {VALUE}"),
    ("(a and b", 8, "9: syntax error, unexpected 'EOF', expecting 'and', 'or', ')'"),
    ("a and b)", 7, "8: syntax error, unexpected ')', expecting 'and', 'or'"),
    ("a and", 5, f"6: syntax error, unexpected 'EOF', expecting {PRIMARY}"),
    ("a and or b", 6, f"7: syntax error, unexpected 'or', expecting {PRIMARY}"),
    ("not", 3, f"4: syntax error, unexpected 'EOF', expecting {PRIMARY}"),
    ("a b", 2, "3: syntax error, unexpected 'b', expecting 'and', 'or'"),
    ("proc.name = foo bar", 16, "17: syntax error, unexpected 'bar', expecting 'and', 'or'"),
    ("proc.name in (a b)", 16, "17: syntax error, unexpected 'b', expecting ',', ')'"),
    ("proc.name in (a, b", 18,
     f"19: syntax error, unexpected 'EOF', expecting {VALUE}, ',', ')'"),
    ("proc.name in (a, (b))", 17,
     f"18: syntax error, unexpected '(', expecting {VALUE}, ',', ')'"),
    ("proc.name in a", 13, "14: syntax error, unexpected 'a', expecting '('"),
    ('proc.name = "abc', 16, "17: syntax error, unexpected 'EOF', expecting '\"'"),
    ("proc.name = 'abc", 16, "17: syntax error, unexpected 'EOF', expecting '''"),
    ('proc.name = "a\\qb"', 14,
     "15: syntax error, unexpected '\\q', expecting 'EscapeSequence'"),
    ("proc.aname[a b] = 1", 12, "13: syntax error, unexpected ' ', expecting ']'"),
    ("proc.aname[2 = 1", 12, "13: syntax error, unexpected ' ', expecting ']'"),
    ("proc.name", 9, "10: syntax error, unexpected 'EOF', expecting '=', '==', '!=', '<', "
     "'<=', '>', '>=', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', "
     "'endswith', 'glob', 'in', 'intersects', 'pmatch', 'exists'"),
    ("a != b", 2, "3: syntax error, unexpected '!=', expecting 'and', 'or'"),
    ("proc.name=127.0.0.1)", 19, "20: syntax error, unexpected ')', expecting 'and', 'or'"),
    ("fd.num = 1,", 10, "11: syntax error, unexpected ',', expecting 'and', 'or'"),
])
def test_syntax_errors(text: str, pos: int, message: str) -> None:
    with pytest.raises(FilterSyntaxError) as e:
        parse(text)
    assert (e.value.pos, str(e.value)) == (pos, message)
    assert e.value.message == message


# --- fuzzing ----------------------------------------------------------------

VOCAB = [
    "proc.name", "fd.num", "evt.type", "proc.aname[2]", "fd.types[]", "evt.arg.flags",
    "container.mount.dest[/x/y]", "proc.aname[", "x.", "m1", "my_macro", "notx",
    "=", "==", "!=", "<", "<=", ">", ">=", "!", "contains", "icontains", "bcontains",
    "startswith", "bstartswith", "endswith", "glob", "in", "pmatch", "intersects", "exists",
    "and", "or", "not", "(", ")", "(", ")", ",", ",", "[", "]",
    "foo", "/usr/bin", "0", "42", "0x1F", "1.5", ".5", "1e5", "127.0.0.1", "-1", "<NA>",
    '"quoted str"', "'single'", '"esc\\n\\"q\\""', '"', "'", "\\", '"\\q"', '"\\ "',
    "#", "$", "%", "\t", "\n", "é", "\x00",
]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(VOCAB), st.sampled_from(["", " ", " ", "\n"])),
                max_size=14))
def test_fuzz_parse_or_syntax_error(tokens: list[tuple[str, str]]) -> None:
    text = "".join(tok + sep for tok, sep in tokens)
    try:
        node = parse(text)
    except FilterSyntaxError as e:
        assert 0 <= e.pos <= len(text)
        assert str(e).startswith(f"{e.pos + 1}: syntax error, unexpected '")
        return
    assert isinstance(node, BoolOp | Not | Compare | MacroRef)
    assert parse(render(node)) == node


_SYMBOL_OPS = ["=", "==", "!=", "<", "<=", ">", ">="]
_WORD_OPS = ["contains", "icontains", "bcontains", "startswith", "bstartswith", "endswith",
             "glob"]
_VALUES = st.sampled_from([
    "foo", "/usr/bin", "0", "0x1F", "1.5", ".5", "127.0.0.1", "<", ">", "!x", "and",
    '"a b"', "'q\\'x'", '"\\ "', '""', "runc:[0:PARENT]", "-1"])
_FIELDS = st.sampled_from(["proc.name", "proc.aname[2]", "fd.types[]", "evt.arg.flags",
                           "container.mount.dest[/x*]"])
_SEP = st.sampled_from(["", " ", "\n  "])
_GAP = st.sampled_from([" ", "  ", "\n"])
_COMPARE = st.one_of(
    st.builds("{}{}{}{}{}".format, _FIELDS, _SEP, st.sampled_from(_SYMBOL_OPS), _SEP, _VALUES),
    st.builds("{} {}{}{}".format, _FIELDS, st.sampled_from(_WORD_OPS), _GAP, _VALUES),
    st.builds("{} {} ({})".format, _FIELDS, st.sampled_from(["in", "pmatch", "intersects"]),
              st.lists(_VALUES, max_size=4).map(", ".join)),
    st.builds("{} exists".format, _FIELDS),
)
_CONDITIONS = st.recursive(
    st.one_of(_COMPARE, st.sampled_from(["m1", "notx", "andy", "in"])),
    lambda inner: st.one_of(
        st.builds("{}{}and{}{}".format, inner, _GAP, _GAP, inner),
        st.builds("{}{}or{}{}".format, inner, _GAP, _GAP, inner),
        st.builds("not{}{}".format, _GAP, inner),
        st.builds("({}{}{})".format, _SEP, inner, _SEP),
    ),
    max_leaves=10,
)


@settings(max_examples=500, deadline=None)
@given(_CONDITIONS)
def test_generated_conditions_parse_and_roundtrip(text: str) -> None:
    node = parse(text)
    assert parse(render(node)) == node


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab.x=()!<> ,\"'\\[]0n")), max_size=30))
def test_fuzz_characters(text: str) -> None:
    try:
        node = parse(text)
    except FilterSyntaxError:
        return
    assert parse(render(node)) == node


# --- real rules files -------------------------------------------------------

def _rule_conditions() -> list:
    files = sorted(RULES_DIR.glob("*.yaml")) if RULES_DIR.is_dir() else []
    params = []
    for path in files:
        doc = yaml.safe_load(path.read_text())
        if not isinstance(doc, list):
            continue
        conds = [(item.get("rule") or item.get("macro"), item["condition"])
                 for item in doc if isinstance(item, dict) and "condition" in item]
        params.append(pytest.param(path, conds, id=path.name))
    return params or [pytest.param(None, [], marks=pytest.mark.skip(
        reason=f"no rules files: {RULES_DIR} is absent"))]


@pytest.mark.parametrize(("path", "conds"), _rule_conditions())
def test_shared_rules_conditions_parse(path: Path, conds: list[tuple[str, str]]) -> None:
    failures = []
    for name, cond in conds:
        try:
            node = parse(cond)
        except FilterSyntaxError as e:
            failures.append(f"{name}: {e}")
            continue
        assert parse(render(node)) == node, name
    assert not failures, "\n".join(failures)
