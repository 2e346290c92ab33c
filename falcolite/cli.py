"""The Falco command line (falco-compat.md section 1): GNU getopt parsing
with Falco's flags, messages and early exits."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

PROG = "falcolite"

SHORT = "hc:AbdD:e:F:ik:K:Ll:m:M:No:P:p:r:S:s:T:t:UuvV:w:"
LONG = ["help", "print-base64", "daemon", "k8s-api=", "k8s-api-cert=", "mesos-api=",
        "option=", "print=", "pidfile=", "snaplen=", "support", "unbuffered", "validate=",
        "version", "stats_interval=", "stats-interval=", "ignored-events", "writefile=",
        "cri=", "userspace", "disable-source=", "enable-source=", "dry-run"]
LIST_EVENTS_FORMAT = ("*%evt.num %evt.time %evt.cpu %proc.name %thread.tid %evt.dir %evt.type "
                      "%evt.args")

USAGE = f"""{PROG} (a Falco-compatible runtime security agent)
Usage: {PROG} [options]

Options:
 -h, --help                    Print this page
 -c                            Configuration file (default /etc/falcolite/falco.yaml, then
                               /etc/falco/falco.yaml)
 -A                            Monitor all events, including those with EF_DROP_SIMPLE_CONS
                               flag.
 -b, --print-base64            Print data buffers in base64.
 -d, --daemon                  Run as a daemon
 -D <regex>                    Disable any rules matching the regex <regex>. Can be specified
                               multiple times. Can not be specified with -t.
 -e <events_file>              Read the events from <events_file> (a scap capture) instead of
                               tapping into live.
 -i                            Print all events that are ignored by default (i.e. without -A)
                               and exit.
 -L                            Show the name and description of all rules and exit.
 -l <rule>                     Show the name and description of the rule with name <rule> and
                               exit.
 --list[=<source>]             List all defined fields. If <source> is provided, only list
                               those fields for the source <source>. Current values for
                               <source> are "syscall" or "k8s_audit"
 --list-events[=<format>]      With -e: print every event in the %field format <format>
                               (default: like sysdig's '-p' listing) and exit.
 -M <num_seconds>              Stop collecting after <num_seconds> reached.
 -N                            When used with --list, only print field names.
 -o, --option <key>=<val>      Set the value of option <key> to <val>. Overrides values in
                               configuration file. <key> can be a two-part <key>.<subkey>
 -p <output_format>, --print=<output_format>
                               Add additional information to each falco notification's output.
                               With -pc or -pcontainer will use a container-friendly format.
                               With -pk or -pkubernetes will use a kubernetes-friendly format.
                               With -pm or -pmesos will use a mesos-friendly format.
 -P, --pidfile <pid_file>      When run as a daemon, write pid to specified file
 -r <rules_file>               Rules file/directory (defaults to value set in configuration
                               file, or the built-in rules). Can be specified multiple times.
 -s <stats_file>               If specified, write statistics related to falco's reading/
                               processing of events to this file. (Only useful in live mode).
 --stats_interval <msec>       When using -s <stats_file>, write statistics every <msec> ms.
                               (default 5000)
 -S <len>, --snaplen <len>     Capture the first <len> bytes of each I/O buffer.
 --support                     Print support information including version, rules files used,
                               etc. and exit.
 -T <tag>                      Disable any rules with a tag=<tag>. Can be specified multiple
                               times. Can not be specified with -t.
 -t <tag>                      Only run those rules with a tag=<tag>. Can be specified multiple
                               times. Can not be specified with -T/-D.
 -U, --unbuffered              Turn off output buffering to configured outputs.
 -V, --validate <rules_file>   Read the contents of the specified rules(s) file and exit
 -v                            Verbose output.
 -w, --writefile <file>        Also write the captured events to this scap file.
 --version                     Print version number.
"""


class CliError(Exception):
    """A command-line error: message, and the exit code Falco uses."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Options:
    argv: list[str] = field(default_factory=list)
    help: bool = False
    version: bool = False
    config: str | None = None
    all_events: bool = False
    base64: bool = False
    daemon: bool = False
    disable_patterns: list[str] = field(default_factory=list)
    trace: str | None = None
    ignored_events: bool = False
    list_rules: bool = False
    describe_rule: str | None = None
    list_fields: str | None = None  # "" = all sources
    names_only: bool = False
    list_events: str | None = None  # the format
    duration: float | None = None
    overrides: list[str] = field(default_factory=list)
    print_format: str | None = None
    pidfile: str = "/var/run/falcolite.pid"
    rules: list[str] = field(default_factory=list)  # expanded -r paths
    rules_given: bool = False
    stats_file: str | None = None
    stats_interval: int = 5000
    snaplen: int = 80
    support: bool = False
    disable_tags: list[str] = field(default_factory=list)
    enable_tags: list[str] = field(default_factory=list)
    unbuffered: bool = False
    validate: list[str] = field(default_factory=list)
    verbose: bool = False
    writefile: str | None = None


def expand_rules_path(path: str) -> list[str]:
    """A rules file, or every regular file directly in a directory, sorted
    (2.4).  Errors exit with code 255 as Falco does."""
    try:
        st = os.stat(path)
    except OSError as err:
        raise CliError(f"Could not get info on rules file {path}: {err.strerror}", 255) from None
    if not stat.S_ISDIR(st.st_mode):
        return [path]
    try:
        names = os.listdir(path)
    except OSError as err:
        raise CliError(f"Could not get read contents of directory {path}: {err.strerror}",
                       255) from None
    out = []
    for name in names:
        full = os.path.join(path, name)
        try:
            if stat.S_ISREG(os.stat(full).st_mode):
                out.append(full)
        except OSError as err:
            raise CliError(f"Could not get info on rules file {full}: {err.strerror}",
                           255) from None
    return sorted(out, key=lambda p: p.encode("utf-8", "surrogateescape"))


OPTIONAL_ARG = frozenset(("list", "list-events"))  # only attached: --list=syscall


def _long_spec(name: str) -> bool | None:
    """Whether a long option takes an argument; None if unknown."""
    if name in OPTIONAL_ARG or name in LONG:
        return False
    if name + "=" in LONG:
        return True
    return None


def iter_options(argv: list[str]) -> Iterator[tuple[str, str]]:
    """GNU getopt_long, one option at a time, so that options act in the
    order given (`--version` at once, `-r` checked before later flags)."""
    takes_arg = {c: SHORT[i + 1:i + 2] == ":" for i, c in enumerate(SHORT) if c != ":"}
    i = 0
    while i < len(argv):
        a = argv[i]
        i += 1
        if a == "--":
            return
        if a.startswith("--"):
            name, eq, val = a[2:].partition("=")
            need = _long_spec(name)
            if need is None:
                raise CliError(f"{PROG}: unrecognized option '{a}'")
            if need and not eq:
                if i >= len(argv):
                    raise CliError(f"{PROG}: option '--{name}' requires an argument")
                val = argv[i]
                i += 1
            elif not need and eq and name not in OPTIONAL_ARG:
                raise CliError(f"{PROG}: option '--{name}' doesn't allow an argument")
            yield "--" + name, val
        elif a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                c = a[j]
                j += 1
                if c not in takes_arg:
                    raise CliError(f"{PROG}: invalid option -- '{c}'")
                if takes_arg[c]:
                    if j < len(a):
                        val = a[j:]
                    elif i < len(argv):
                        val = argv[i]
                        i += 1
                    else:
                        raise CliError(f"{PROG}: option requires an argument -- '{c}'")
                    yield "-" + c, val
                    break
                yield "-" + c, ""
        # other words are ignored, as Falco does


def parse_args(argv: list[str]) -> Options:
    o = Options(argv=list(argv))
    for opt, val in iter_options(argv):
        if opt == "--list":
            o.list_fields = val  # optional argument, attached with '='
        elif opt == "--list-events":
            o.list_events = val or LIST_EVENTS_FORMAT
        elif opt in ("-h", "--help"):
            o.help = True
        elif opt == "--version":
            o.version = True
            return o  # acts at once
        elif opt == "-c":
            o.config = val
        elif opt == "-A":
            o.all_events = True
        elif opt in ("-b", "--print-base64"):
            o.base64 = True
        elif opt in ("-d", "--daemon"):
            o.daemon = True
        elif opt == "-D":
            o.disable_patterns.append(val)
        elif opt == "-e":
            o.trace = val
        elif opt in ("-i", "--ignored-events"):
            o.ignored_events = True
        elif opt == "-F":
            o.list_fields = ""
        elif opt == "-L":
            o.list_rules = True
        elif opt == "-l":
            o.describe_rule = val
        elif opt == "-M":
            try:
                o.duration = float(val)
            except ValueError:
                o.duration = -1
            if o.duration <= 0:
                raise CliError(f"invalid duration{val}")
        elif opt == "-N":
            o.names_only = True
        elif opt in ("-o", "--option"):
            o.overrides.append(val)
        elif opt in ("-p", "--print"):
            o.print_format = val
        elif opt in ("-P", "--pidfile"):
            o.pidfile = val
        elif opt == "-r":
            o.rules_given = True
            o.rules.extend(expand_rules_path(val))
        elif opt == "-s":
            o.stats_file = val
        elif opt in ("--stats_interval", "--stats-interval"):
            try:
                o.stats_interval = int(val)
            except ValueError:
                raise CliError(f"invalid stats interval {val}") from None
            if o.stats_interval <= 0:
                raise CliError(f"invalid stats interval {val}")
        elif opt in ("-S", "--snaplen"):
            o.snaplen = int(val) if val.isdigit() else 80
        elif opt == "--support":
            o.support = True
        elif opt == "-T":
            o.disable_tags.append(val)
        elif opt == "-t":
            o.enable_tags.append(val)
        elif opt in ("-U", "--unbuffered"):
            o.unbuffered = True
        elif opt in ("-V", "--validate"):
            o.validate.append(val)
        elif opt == "-v":
            o.verbose = True
        elif opt in ("-w", "--writefile"):
            o.writefile = val
    if o.list_fields not in (None, "", "syscall", "k8s_audit"):
        raise CliError('Value for --list must be "syscall" or "k8s_audit"')
    return o


def main(argv: list[str] | None = None) -> int:
    from .app import App

    args = sys.argv[1:] if argv is None else argv
    try:
        opts = parse_args(args)
    except CliError as err:
        sys.stderr.write(str(err) + "\n")
        return err.code
    return App(opts).run()
