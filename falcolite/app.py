"""Wiring and the main loop: options -> config -> rules -> source -> state,
rules, outputs; the start-up order of falco-compat.md 1.4, signals and the
end-of-run summary of section 4."""

from __future__ import annotations

import os
import platform
import signal
import sys
import textwrap
import time
from collections import Counter
from importlib import resources

import orjson

from . import __build_date__, __version__
from .cli import USAGE, CliError, Options
from .config import Config, ConfigError, RawConfig
from .events import table as t
from .events.event import Event
from .events.records import CaptureMeta
from .events.table import EVENTS, SYSCALL_NAMES
from .events.writer import ScapWriter
from .filter.fields import REGISTRY, FieldContext
from .log import Log
from .monitor.drops import NO_COUNTERS, DropCounters, DropMonitor
from .monitor.statsfile import StatsWriter
from .outputs.alerts import Alert, AlertFormatter
from .outputs.channels import Channel, make_channels
from .outputs.formatter import FormatError, Formatter
from .outputs.ratelimit import TokenBucket
from .rules.evttypes import ignored_names
from .rules.loader import ENGINE_VERSION, RulesError, RulesLoader
from .rules.pathbound import open_bound
from .rules.priority import PriorityError, parse_floor
from .rules.ruleset import Ruleset
from .sources.batch import Batch
from .sources.live import LiveError, LiveSource, live_compiled
from .sources.trace import CaptureError, TraceSource
from .state.tracker import HANDLERS, StateTracker

DEFAULT_CONFIGS = ("/etc/falcolite/falco.yaml", "/etc/falco/falco.yaml")
BATCH = 4096


def build_info() -> dict[str, str]:
    """What --version prints (the first line as Falco's own) and --support
    holds: version, build date, engine version, live capture."""
    return {
        "version": __version__,
        "build_date": __build_date__ or "none (run from the source tree)",
        "engine_version": ".".join(map(str, ENGINE_VERSION)),
        "live_capture": "compiled in (CO-RE eBPF probe)" if live_compiled()
        else "not compiled in (capture files only)",
    }


def default_rules_file() -> str:
    """The rules shipped inside the package (also in the single binary)."""
    return str(resources.files("falcolite.rules") / "falcolite_rules.yaml")


class Fatal(Exception):
    """`Runtime error: <message>. Exiting.` and exit code 1."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class App:
    def __init__(self, opts: Options) -> None:
        self.opts = opts
        self.log = Log(stderr=True, use_syslog=False, level="info")
        self.stop_requested = False
        self.stop_signal: str | None = None
        self.reload_requested = False
        self.reopen_requested = False
        self.config = Config.defaults_no_file()
        self.channels: list[Channel] = []

    # ----------------------------------------------------------------- run
    def run(self) -> int:
        o = self.opts
        if o.version:
            b = build_info()
            print(f"falcolite version {b['version']}\nBuild date: {b['build_date']}\n"
                  f"Engine version: {b['engine_version']}\nLive capture: {b['live_capture']}")
            return 0
        if o.help:
            sys.stdout.write(USAGE)
            return 0
        try:
            return self._run()
        except Fatal as err:
            self._fatal(str(err))
            return err.code
        except (RulesError, ConfigError, CaptureError, CliError) as err:
            msg = str(err)
            if isinstance(err, RulesError) and not msg.startswith("Could not open rules"):
                msg = f"Error loading rules: {msg}"
            self._fatal(msg)
            return getattr(err, "code", 1) if isinstance(err, CliError) else 1

    def _fatal(self, msg: str) -> None:
        line = f"Runtime error: {msg}. Exiting."
        self.log.error(line)
        if not self.log.stderr:
            sys.stderr.write(line + "\n")

    def _run(self) -> int:
        o = self.opts
        if o.ignored_events:
            names = sorted(ignored_names("event") | ignored_names("syscall"))
            print("Ignored Event(s):" + "".join(" " + n for n in names))
            return 0
        if o.list_fields is not None:
            self.list_fields(o.list_fields, o.names_only)
            return 0
        if o.list_events is not None:
            if o.trace is None:
                raise Fatal("--list-events needs a capture file: -e <file>")
            return self.list_events(o.trace, o.list_events)
        if o.daemon and not o.pidfile:
            raise Fatal("If -d is provided, a pid file must also be provided")
        config_path = self._locate_config()
        if o.validate:
            return self.validate(o.validate)
        self._read_config(config_path)
        rules_files = o.rules if o.rules_given else [
            p for f in self.config.rules_files for p in self._config_rules_path(f)]
        if not rules_files:
            if o.rules_given or self.config.rules_files:
                raise Fatal("You must specify at least one rules file/directory via -r or a "
                            "rules_file entry in falco.yaml")
            rules_files = [default_rules_file()]
        if o.unbuffered:
            self.config.buffered_outputs = False
        tracker = StateTracker()
        ctx = FieldContext(tracker)
        loader = self._load_rules(rules_files, ctx)
        if (o.disable_patterns or o.disable_tags) and o.enable_tags:
            raise Fatal("You can not specify both disabled (-D/-T) and enabled (-t) rules")
        ruleset = self._select(Ruleset(loader.compiled, all_events=o.all_events), log=True)
        if o.support:
            self.support(loader)
            return 0
        if o.list_rules or o.describe_rule is not None:
            return self.describe(loader, o.describe_rule)
        try:
            self.channels = make_channels(self.config, self.log, o.unbuffered)
        except OSError as err:
            raise Fatal(f"Error with file output: {err}") from None
        if o.trace is None:
            return self.capture_live(tracker, ctx, ruleset)
        return self.replay(o.trace, tracker, ctx, ruleset)

    def _select(self, ruleset: Ruleset, log: bool = False) -> Ruleset:
        """-D, -T and -t, in that order (1.4 step 12)."""
        o = self.opts
        for p in o.disable_patterns:
            if log:
                self.log.info(f"Disabling rules matching pattern: {p}")
            ruleset.disable_matching(p)
        if log:
            for tag in o.disable_tags:
                self.log.info(f"Disabling rules with tag: {tag}")
        if o.disable_tags:
            ruleset.disable_tags(o.disable_tags)
        if log:
            for tag in o.enable_tags:
                self.log.info(f"Enabling rules with tag: {tag}")
        if o.enable_tags:
            ruleset.enable_only_tags(o.enable_tags)
        return ruleset

    # ------------------------------------------------------------ config
    def _locate_config(self) -> str | None:
        if self.opts.config is not None:
            return self.opts.config
        for p in DEFAULT_CONFIGS:
            if os.path.exists(p):
                return p
        return None

    def _read_config(self, path: str | None) -> None:
        o = self.opts
        if path is None:
            raw = RawConfig({}, "")
            for opt in o.overrides:
                raw.override(opt)
            self.config = Config.from_raw_nofile(raw) if o.overrides else \
                Config.defaults_no_file()
            self._configure_log()
            self.log.info("Falco initialized. No configuration file found, proceeding with "
                          "defaults")
            return
        raw = RawConfig.load(path)
        for opt in o.overrides:
            raw.override(opt)
        self.config = Config.from_raw(raw)
        self._configure_log()
        self.log.info(f"Falco initialized with configuration file {path}")

    def _configure_log(self) -> None:
        c = self.config
        self.log.configure(c.log_stderr, c.log_syslog, c.log_level, c.time_format_iso_8601)

    @staticmethod
    def _config_rules_path(path: str) -> list[str]:
        """Config entries that do not exist are skipped silently (2.4)."""
        if not os.path.exists(path):
            return []
        from .cli import expand_rules_path

        return expand_rules_path(path)

    # ------------------------------------------------------------- rules
    def _load_rules(self, files: list[str], ctx: FieldContext) -> RulesLoader:
        o = self.opts
        try:
            floor = parse_floor(self.config.priority)
        except PriorityError as err:
            raise Fatal(str(err)) from None
        loader = self._new_loader(ctx, floor)
        self.log.debug("Configured rules filenames:")
        for f in files:
            self.log.debug(f"   {f}")
        for f in files:
            self.log.info(f"Loading rules from file {f}:")
            n_warn = len(loader.warnings)
            n_v = len(loader.verbose_lines)
            n_out = len(loader.verbose_stdout)
            loader.load_file(f)
            for w in loader.warnings[n_warn:]:
                sys.stderr.write(w + "\n")
            if o.verbose:
                for line in loader.verbose_lines[n_v:]:
                    sys.stderr.write(line + "\n")
                for line in loader.verbose_stdout[n_out:]:
                    print(line)
        return loader

    def _new_loader(self, ctx: FieldContext, floor: int = 7) -> RulesLoader:
        p = self.opts.print_format
        container_info = None
        extra = ""
        if p in ("c", "container"):
            container_info = "container=%container.name (id=%container.id)"
        elif p in ("k", "kubernetes"):
            container_info = ("k8s.ns=%k8s.ns.name k8s.pod=%k8s.pod.name "
                              "container=%container.id")
        elif p in ("m", "mesos"):
            container_info = "task=%mesos.task.name container=%container.id"
        elif p:
            extra = p
        return RulesLoader(ctx, floor, self.opts.all_events, extra, container_info)

    def validate(self, files: list[str]) -> int:
        self.log.info("Validating rules file(s):")
        for f in files:
            self.log.info(f"   {f}")
        loader = self._new_loader(FieldContext(StateTracker()))
        for f in files:
            n = len(loader.warnings)
            loader.load_file(f)
            for w in loader.warnings[n:]:
                sys.stderr.write(w + "\n")
        self.log.info("Ok")
        return 0

    def describe(self, loader: RulesLoader, name: str | None) -> int:
        rules = list(loader.rules.values())
        if name is not None:
            rules = [r for r in rules if r.name == name]
            if not rules:
                raise Fatal(f"Could not describe rule {name}: ...No such rule: {name}")
        print()
        print(f"{'Rule':<50} Description")
        print(f"{'----':<50} -----------")
        for r in rules:
            lines = textwrap.wrap(" ".join(r.desc.split()), 60) or [""]
            print(f"{r.name:<50} {lines[0]}")
            for line in lines[1:]:
                print(" " * 51 + line)
            print()
        return 0

    def support(self, loader: RulesLoader) -> None:
        u = platform.uname()
        b = build_info()
        config_text = ""
        if self.config.path:
            with open(self.config.path, encoding="utf-8", errors="replace") as f:
                config_text = f.read()
        doc = {
            "cmdline": " ".join([sys.argv[0], *self.opts.argv]),
            "config": config_text,
            "rules_files": [{"name": p, "variants": [{"content": text,
                                                      "required_engine_version": req}]}
                            for p, text, req in loader.files],
            "system_info": {"machine": u.machine, "nodename": u.node, "release": u.release,
                            "sysname": u.system, "version": u.version},
            "version": __version__,
            "engine_info": {"engine_version": b["engine_version"]},
            "falcolite_build": {"build_date": b["build_date"],
                                "live_capture": b["live_capture"]},
        }
        sys.stdout.buffer.write(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS) + b"\n")

    def list_fields(self, source: str, names_only: bool) -> None:
        if source == "k8s_audit":
            return
        for name in sorted(REGISTRY):
            fdef = REGISTRY[name]
            if names_only:
                print(name)
                continue
            desc = ("(FILTER ONLY) " if fdef.filter_only else "") + fdef.desc
            head = f"{name:<16}" if len(name) < 16 else name + "\n" + " " * 16
            print(head + textwrap.fill(desc, 79, initial_indent="",
                                       subsequent_indent=" " * 16))

    def list_events(self, path: str, fmt: str) -> int:
        """Every event of a capture in a %field format, like `sysdig -r -p`."""
        tracker = StateTracker()
        ctx = FieldContext(tracker)
        try:
            formatter = Formatter(fmt, ctx)
        except FormatError as err:
            raise Fatal(f"Invalid output format '{fmt}': '{err}'") from None
        out = sys.stdout.buffer
        src = TraceSource(path, BATCH)
        tracker.load(src.meta)
        section = src.section
        try:
            for batch in src.batches():
                if batch.section != section:
                    section = batch.section
                    tracker.load(src.meta)
                lines = []
                for e in batch.events():
                    tracker.process(e)
                    text = formatter.render(e)
                    if text is not None:
                        lines.append(text.encode("utf-8", "surrogateescape") + b"\n")
                out.write(b"".join(lines))
        except CaptureError as err:
            out.flush()
            raise Fatal(str(err)) from None
        out.flush()
        return 0

    # -------------------------------------------------------------- loop
    def _signals(self) -> None:
        """SIGINT and SIGTERM stop alike (the single binary turns SIGTERM into
        SIGINT), SIGHUP reloads, SIGUSR1 reopens outputs."""
        def stop(sig: int, _frame: object) -> None:
            self.stop_requested = True
            self.stop_signal = signal.Signals(sig).name

        def reload(_sig: int, _frame: object) -> None:
            self.reload_requested = True

        def reopen(_sig: int, _frame: object) -> None:
            self.reopen_requested = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGHUP, reload)
        signal.signal(signal.SIGUSR1, reopen)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # a dead program output is not fatal

    def replay(self, path: str, tracker: StateTracker, ctx: FieldContext,
               ruleset: Ruleset) -> int:
        o = self.opts
        self._signals()
        try:
            src = TraceSource(path, BATCH)
        except CaptureError as err:
            if "not a scap capture" in str(err) or "is empty" in str(err):
                sys.stderr.write(f"Trace filename {path} not recognized as system call events "
                                 "or k8s audit events\n")
                return 1
            raise
        self.log.info(f"Reading system call events from file: {path}")
        if o.daemon:  # after the capture is open: start-up errors reach the terminal
            self.daemonize(o.pidfile)
        tracker.load(src.meta)
        c = self.config
        drops = DropMonitor(c.drop_actions, c.drop_rate, c.drop_max_burst, c.simulate_drops,
                            self.log, self._emit_internal, c.json_output)
        run = _Run(self, ruleset, ctx)
        # simulated drops tick on every event's time, so every event must come
        self._push_interest(src, ruleset, drops)
        stats = None
        if o.stats_file:
            stats = StatsWriter(o.stats_file, o.stats_interval,
                                lambda: (run.events_read, 0, 0))
            stats.start()
        exit_code = 0
        first_ts = None
        cpu0 = time.process_time()
        section = src.section
        writer = self._open_writer(src.meta)
        try:
            for batch in src.batches():
                if batch.section != section:
                    section = batch.section
                    tracker.load(src.meta)
                if writer is not None:
                    write_batch(writer, batch)
                if first_ts is None and len(batch):
                    # -M counts from the capture's first event, filtered or not
                    first_ts = src.stats()["first_ts"]
                for e in batch.events():
                    if self.stop_requested:
                        break
                    if o.duration is not None and e.ts - first_ts > o.duration * 1e9:
                        self.stop_requested = True
                        break
                    run.events_read += 1
                    tracker.process(e)
                    if drops.check(e.ts):
                        self.stop_requested = True
                        exit_code = 1
                        break
                    run.handle(e)
                run = self._between_batches(run, ctx, src, drops)
                if self.stop_requested:
                    break
        except CaptureError as err:
            raise Fatal(str(err)) from None
        finally:
            self._finish(stats)
            if writer is not None:
                writer.close()
        if o.verbose:
            # events handed to the rules: all but the ignored ones, counted by
            # the reader since the prefilter keeps most of them from Python
            counts = src.type_counts()
            run.captured = sum(n for code, n in enumerate(counts) if code not in run.skip)
        return self._report(run, drops, NO_COUNTERS, cpu0, exit_code)

    def _report(self, run: _Run, drops: DropMonitor, driver: DropCounters, cpu0: float,
                exit_code: int, elided: int = 0) -> int:
        """The end of a run: stop reason, -v counters, summary, failed channels.
        `elided`: live events the reader dropped as open/close pairs."""
        if self.stop_signal is not None:
            self.log.info(f"{self.stop_signal} received, stopping")
        if self.opts.verbose:
            elapsed = time.process_time() - cpu0
            rate = run.captured / elapsed if elapsed > 0 else 0.0
            sys.stderr.write(f"Driver Events:{driver.n_evts}\nDriver Drops:{driver.n_drops}\n"
                             f"Elapsed time: {elapsed:.3f}, "
                             f"Captured Events: {run.captured}, {rate:.2f} eps\n")
            if elided:
                sys.stderr.write(f"Open/close pairs no rule can match, dropped before the "
                                 f"rules: {elided // 2}\n")
        self.print_summary(run.by_rule, run.by_prio, drops)
        for ch in self.channels:
            if ch.failed:
                sys.stderr.write(f"Output channel {ch.name} failed to deliver {ch.failed} "
                                 "alerts\n")
        return exit_code

    def capture_live(self, tracker: StateTracker, ctx: FieldContext, ruleset: Ruleset) -> int:
        """No -e: this host's events through the eBPF probe until stopped
        (signal, -M seconds of wall time, or the drop monitor's exit)."""
        o = self.opts
        self._signals()
        try:
            src = LiveSource(self.config.ring_bytes, BATCH)
        except LiveError as err:
            raise Fatal(f"Unable to open the live capture: {err}") from None
        kind = "" if src.probe == "current" else f" ({src.probe} build: no cgroups)"
        self.log.info(f"Opening capture with the eBPF probe{kind}")
        if o.daemon:
            self.daemonize(o.pidfile)
        tracker.load(src.meta)
        c = self.config
        drops = DropMonitor(c.drop_actions, c.drop_rate, c.drop_max_burst, c.simulate_drops,
                            self.log, self._emit_internal, c.json_output, live=True)

        def counters() -> DropCounters:
            s = src.stats()
            return DropCounters(s["seen"], s["drops_buffer"], s["drops_size"])

        run = _Run(self, ruleset, ctx)
        self._push_interest(src, ruleset, drops)
        stats = None
        if o.stats_file:
            def driver_stats() -> tuple[int, int, int]:
                now = counters()
                return now.n_evts, now.n_drops, 0
            stats = StatsWriter(o.stats_file, o.stats_interval, driver_stats)
            stats.start()
        writer = self._open_writer(src.meta)
        deadline = time.monotonic() + o.duration if o.duration is not None else None
        exit_code = 0
        cpu0 = time.process_time()
        try:
            while not self.stop_requested:
                batch = src.next_batch()
                if writer is not None:
                    write_batch(writer, batch)
                for e in batch.events():
                    run.events_read += 1
                    tracker.process(e)
                    if drops.check(e.ts, counters):
                        self.stop_requested = True
                        exit_code = 1
                        break
                    run.handle(e)
                run = self._between_batches(run, ctx, src, drops)
                if deadline is not None and time.monotonic() >= deadline:
                    break
        except LiveError as err:
            raise Fatal(str(err)) from None
        finally:
            self._finish(stats)
            if writer is not None:
                writer.close()
            driver = counters()
            elided = src.stats()["elided"]
            src.close()
        return self._report(run, drops, driver, cpu0, exit_code, elided)

    def _open_writer(self, meta: CaptureMeta) -> ScapWriter | None:
        """-w: a capture file of the events read, starting with the state
        they were read against."""
        if self.opts.writefile is None:
            return None
        try:
            writer = ScapWriter(self.opts.writefile)
        except OSError as err:
            raise Fatal(f"Could not open {self.opts.writefile} for writing: "
                        f"{err.strerror}") from None
        writer.write_header(meta)
        return writer

    def _between_batches(self, run: _Run, ctx: FieldContext, src: TraceSource | LiveSource,
                         drops: DropMonitor) -> _Run:
        """Signals are acted on between batches: SIGUSR1 reopens outputs,
        SIGHUP reloads (a new run configuration)."""
        if self.reopen_requested:
            self.reopen_requested = False
            for ch in self.channels:
                ch.reopen()
        if self.reload_requested:
            self.reload_requested = False
            run = self._reload(run, ctx, src, drops)
        return run

    def _push_interest(self, src: TraceSource | LiveSource, ruleset: Ruleset,
                       drops: DropMonitor) -> None:
        """Tell the source what Python needs: the event types and generic
        syscalls of the rules and the state tracker, and for live capture
        the open/close pairs it may drop.  Simulated drops tick on every
        event and -w writes every event, so then everything comes."""
        src.set_interesting(None if drops.simulate else wanted_codes(ruleset))
        src.set_interesting_syscalls(None if drops.simulate else ruleset.interesting_syscalls())
        if isinstance(src, LiveSource):
            keep_all = drops.simulate or bool(self.opts.writefile)
            src.set_elision(None if keep_all else open_bound(ruleset))

    def _reload(self, run: _Run, ctx: FieldContext, src: TraceSource | LiveSource,
                drops: DropMonitor) -> _Run:
        """SIGHUP: config and rules read again, outputs reopened; the capture
        goes on from where it is and the counters keep counting."""
        self.log.info("SIGHUP received, reloading configuration and rules")
        self._close_channels()
        self._read_config(self._locate_config())
        files = self.opts.rules if self.opts.rules_given else [
            p for f in self.config.rules_files for p in self._config_rules_path(f)] or \
            [default_rules_file()]
        loader = self._load_rules(files, ctx)
        ruleset = self._select(Ruleset(loader.compiled, all_events=self.opts.all_events))
        self.channels = make_channels(self.config, self.log, self.opts.unbuffered)
        new = _Run(self, ruleset, ctx)
        new.events_read, new.captured = run.events_read, run.captured
        new.by_rule, new.by_prio = run.by_rule, run.by_prio
        self._push_interest(src, ruleset, drops)
        return new

    def daemonize(self, pidfile: str) -> None:
        """Fork; the parent writes the child's pid to the pid file and exits 0
        (8.2); the child leaves the terminal behind."""
        try:
            pid = os.fork()
        except OSError:
            raise Fatal("Could not fork") from None
        if pid > 0:
            try:
                with open(pidfile, "w", encoding="ascii") as f:
                    f.write(str(pid))
            except OSError:
                self.log.error(f"Could not write pid to pid file {pidfile}. Exiting.")
                os._exit(1)
            os._exit(0)
        try:
            os.setsid()
        except OSError:
            self.log.critical("Could not set session id. Exiting.")
            os._exit(1)
        os.umask(0o027)
        try:
            os.chdir("/")
        except OSError:
            self.log.critical("Could not change working directory to '/'. Exiting.")
            os._exit(1)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)

    def _emit_internal(self, alert: Alert) -> None:
        for ch in self.channels:
            ch.emit(alert)

    def _finish(self, stats: StatsWriter | None) -> None:
        if stats is not None:
            stats.stop()
        self._close_channels()

    def _close_channels(self) -> None:
        for ch in self.channels:
            ch.close()

    @staticmethod
    def print_summary(by_rule: Counter[str], by_prio: Counter[str],
                      drops: DropMonitor) -> None:
        out = [f"Events detected: {sum(by_rule.values())}", "Rule counts by severity:"]
        out += [f"   {p}: {n}" for p, n in by_prio.items()]
        out.append("Triggered rules by rule name:")
        out += [f"   {r}: {n}" for r, n in by_rule.items()]
        sys.stdout.write("\n".join(out) + "\n")
        sys.stdout.flush()
        sys.stderr.write("Syscall event drop monitoring:\n"
                         f"   - event drop detected: {drops.occurrences} occurrences\n"
                         f"   - num times actions taken: {drops.actions_taken}\n")


class _Run:
    """What one configuration of the loop uses, and the run's counters."""

    def __init__(self, app: App, ruleset: Ruleset, ctx: FieldContext) -> None:
        c = app.config
        self.app = app
        self.ruleset = ruleset
        self.fmt = AlertFormatter(c.json_output, c.json_include_output_property,
                                  c.time_format_iso_8601, ctx.hostname,
                                  c.json_include_tags_property,
                                  c.json_include_hostname_property,
                                  c.json_include_source_property)
        self.bucket = TokenBucket(c.outputs_rate, c.outputs_max_burst)
        self.skip = frozenset() if app.opts.all_events else frozenset(
            e.code for e in EVENTS if e.name in ignored_names("event"))
        # generic events of ignored syscalls (madvise...) are skipped too [quirk]
        self.skip_sc = frozenset() if app.opts.all_events else frozenset(
            i for i, n in enumerate(SYSCALL_NAMES) if n in ignored_names("syscall"))
        self.by_rule: Counter[str] = Counter()
        self.by_prio: Counter[str] = Counter()
        self.events_read = 0
        self.captured = 0

    def handle(self, e: Event) -> None:
        """Rules and outputs for one event (state is already updated)."""
        if e.type in self.skip or e.dump_flags & t.DF_STATE_ONLY:
            return
        if e.type <= t.GENERIC_X and self.skip_sc and e.param(0) in self.skip_sc:
            return
        self.captured += 1
        rule = self.ruleset.match(e)
        if rule is None:
            return
        self.by_rule[rule.name] += 1
        self.by_prio[rule.rule.priority] += 1
        if not self.bucket.claim():
            self.app.log.debug(f"Skipping rate-limited notification for rule {rule.name}")
            return
        alert = self.fmt.render(rule, e)
        for ch in self.app.channels:
            ch.emit(alert)


def write_batch(writer: ScapWriter, batch: Batch) -> None:
    """-w: the batch's events, as read, into the capture being written."""
    buf = batch.buf
    for i, off in enumerate(batch.offsets):
        length = int.from_bytes(buf[off + 16:off + 20], "little")
        writer.write_encoded(buf[off:off + length], batch.cpus[i])


def wanted_codes(ruleset: Ruleset) -> set[int] | None:
    """Event types that must reach Python: what the rules can match, what
    the state tracker handles, and the enter events paired with those."""
    codes = ruleset.interesting_codes()
    if codes is None:
        return None
    codes = set(codes) | set(HANDLERS)
    for e in EVENTS:
        if e.flags & (t.EF_MODIFIES_STATE | t.EF_CREATES_FD | t.EF_DESTROYS_FD):
            codes.add(e.code)
    codes |= {c - 1 for c in codes if c & 1}  # the enter half of each exit
    return codes


