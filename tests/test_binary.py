"""The single binary, dist/falcolite (`make binary`), and its Debian package.

Skipped when dist/falcolite is absent, unless FALCOLITE_REQUIRE_BINARY=1
(`make binary-test`), which makes that a failure.  The binary runs from an
empty environment (`env -i`, a temporary HOME) so that nothing of the
checkout or of the developer's virtualenv can help it.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINARY = ROOT / "dist" / "falcolite"
DEMO = ROOT / "traces" / "demo-webshell.scap"
SHARED = Path(os.environ.get("FALCOLITE_SHARED", ROOT.parent / "shared"))
REQUIRE = os.environ.get("FALCOLITE_REQUIRE_BINARY") == "1"
# build/build_binary.sh's linking mode; `make binary-test STATIC_DEPS=no`
# passes it on to the tests
STATIC_DEPS = os.environ.get("STATIC_DEPS", "yes") != "no"
LIVE = os.environ.get("FALCOLITE_NO_LIVE") != "1"
HOST_CONFIGS = (Path("/etc/falcolite/falco.yaml"), Path("/etc/falco/falco.yaml"))

DEMO_RULES = sorted([
    "Shell spawned by a server process",
    "Read sensitive file untrusted",
    "Write below binary dir",
    "Set setuid or setgid bit",
    "Outbound connection from shell or network tool",
])
# what glibc provides (ldd names), and zlib, which the host provides too (for
# CPython's zlib and binascii modules, and the C extension)
GLIBC_LIBS = ("linux-vdso.so.1", "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0",
              "librt.so.1", "ld-linux-x86-64.so.2")
HOST_LIBS = (*GLIBC_LIBS, "libz.so.1")
EVENT_BLOCKS = {0x204, 0x208, 0x216, 0x217, 0x221, 0x222}


def version() -> str:
    text = (ROOT / "falcolite" / "__init__.py").read_text(encoding="utf-8")
    m = re.search(r'^__version__ = "(.+)"$', text, re.M)
    assert m
    return m.group(1)


# ------------------------------------------------------------------ helpers

@pytest.fixture(scope="module")
def binary() -> Path:
    if not BINARY.is_file():
        msg = f"{BINARY.relative_to(ROOT)} is not built (make binary)"
        if REQUIRE:
            pytest.fail(msg + ", and FALCOLITE_REQUIRE_BINARY=1 requires it")
        pytest.skip(msg)
    return BINARY


def outside_tmp_dir() -> Path:
    """A new directory that is not under /tmp (which the noexec test hides)."""
    for base in (ROOT / "build" / "out", Path("/var/tmp"), Path.home()):
        if not base.resolve().is_relative_to("/tmp"):
            base.mkdir(parents=True, exist_ok=True)
            return Path(tempfile.mkdtemp(prefix="test-binary-", dir=base))
    raise AssertionError("no directory outside /tmp")


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    """A HOME shared by the module's runs: the payload is unpacked once, into
    $HOME/.cache/falcolite/<version>-<build>."""
    d = outside_tmp_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def unpack_dir(home: Path) -> Path:
    dirs = list((home / ".cache" / "falcolite").iterdir())
    assert len(dirs) == 1, dirs
    assert dirs[0].name.startswith(version() + "-"), dirs
    return dirs[0]


def config_args(tmp: Path) -> list[str]:
    """None: falcolite's defaults.  When the host has a falco.yaml where
    falcolite looks for one, a minimal one of our own instead."""
    if not any(p.exists() for p in HOST_CONFIGS):
        return []
    conf = tmp / "falco.yaml"
    conf.write_text("stdout_output:\n  enabled: true\n", encoding="utf-8")
    return ["-c", str(conf)]


def run(binary: Path, args: list[str], home: Path, cwd: Path | None = None,
        env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`env -i HOME=... [env] falcolite args`, text output."""
    extra = [f"{k}={v}" for k, v in (env or {}).items()]
    return subprocess.run(["env", "-i", f"HOME={home}", *extra, str(binary), *args],
                          cwd=cwd or home, capture_output=True, text=True, timeout=timeout)


def json_alerts(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def elf_files(folder: Path) -> list[Path]:
    out = []
    for p in folder.rglob("*"):
        if p.is_file() and not p.is_symlink():
            with open(p, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    out.append(p)
    return out


def needed(path: Path) -> list[str]:
    text = subprocess.run(["objdump", "-p", str(path)], capture_output=True, text=True,
                          check=True).stdout
    return re.findall(r"^\s+NEEDED\s+(\S+)$", text, re.M)


def glibc_versions(path: Path) -> set[tuple[int, ...]]:
    text = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True,
                          check=True).stdout
    return {tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_([\d.]+\d)", text)}


def need_tool(name: str, package: str | None = None) -> str:
    """The tool's path; a skip without it, a failure under
    FALCOLITE_REQUIRE_BINARY=1 (`make binary-test` installs them)."""
    path = shutil.which(name) or shutil.which(f"/usr/sbin/{name}")
    if path is None:
        msg = f"{name} is not installed (apt-get install {package or name})"
        if REQUIRE:
            pytest.fail(msg + ", and FALCOLITE_REQUIRE_BINARY=1 requires it")
        pytest.skip(msg)
    return path


# ------------------------------------------------------------------ basics

def test_version(binary: Path, home: Path) -> None:
    r = run(binary, ["--version"], home)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == f"falcolite version {version()}"
    assert re.fullmatch(r"Build date: \d{4}-\d\d-\d\d", lines[1]), lines
    assert lines[2] == "Engine version: 0.57.0"
    assert lines[3] == "Live capture: compiled in (CO-RE eBPF probe)" or (
        os.environ.get("FALCOLITE_NO_LIVE") == "1"
        and lines[3] == "Live capture: not compiled in (capture files only)")


def test_demo_from_empty_environment(binary: Path, tmp_path: Path) -> None:
    """`env -i`, a new HOME, cwd outside the checkout: the embedded default
    rules give the demo's five alerts."""
    home = tmp_path / "home"
    cwd = tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    r = run(binary, [*config_args(tmp_path), "-e", str(DEMO), "-o", "json_output=true"],
            home, cwd=cwd)
    assert r.returncode == 0, r.stderr
    alerts = json_alerts(r.stdout)
    assert sorted(a["rule"] for a in alerts) == DEMO_RULES
    for a in alerts:
        assert set(a) >= {"output", "priority", "rule", "time", "output_fields"}
    assert "Events detected: 5" in r.stdout
    assert not list(cwd.iterdir())
    # the built-in rules are the copy inside the binary, unpacked with it
    r = run(binary, [*config_args(tmp_path), "--support"], home, cwd=cwd)
    assert r.returncode == 0, r.stderr
    files = [f["name"] for f in json.loads(r.stdout)["rules_files"]]
    assert len(files) == 1 and files[0].endswith("falcolite_rules.yaml"), files
    assert Path(files[0]).is_relative_to(unpack_dir(home)), files


def test_validates_falco_015_rules(binary: Path, home: Path) -> None:
    rules = SHARED / "falco-rules" / "falco_rules.v0.15.yaml"
    if not rules.exists():
        pytest.skip(f"{rules} not found (set FALCOLITE_SHARED)")
    r = run(binary, ["-V", str(rules)], home)
    assert r.returncode == 0, r.stderr
    assert "Ok" in r.stderr + r.stdout


# ------------------------------------------------------------------ libraries

def test_ldd_only_glibc(binary: Path, home: Path) -> None:
    """The launcher links glibc only.  The unpacked agent needs, from the
    host, glibc and libz.so.1 (zlib is shared: every distribution has it);
    everything else it needs is bundled next to it."""
    need_tool("ldd")
    need_tool("objdump")
    text = subprocess.run(["ldd", str(binary)], capture_output=True, text=True).stdout
    libs = [line.split()[0] for line in text.splitlines() if line.strip()]
    assert libs, text
    for lib in libs:
        assert Path(lib).name in GLIBC_LIBS, text
    assert run(binary, ["--version"], home).returncode == 0
    folder = unpack_dir(home)
    bundled = {p.name for p in folder.rglob("*")}
    missing = {}
    for elf in elf_files(folder):
        extra = [n for n in needed(elf) if n not in HOST_LIBS and n not in bundled]
        if extra:
            missing[str(elf.relative_to(folder))] = extra
    assert not missing


def test_extension_needs_only_glibc_and_zlib(binary: Path, home: Path, tmp_path: Path) -> None:
    """The release build links libbpf and libelf into the C extension
    (build/static_deps.sh's PIC archives): the extension unpacked from the
    binary needs glibc's libraries and the host's zlib only, and the live
    probe is compiled in."""
    readelf = need_tool("readelf")
    r = run(binary, [*config_args(tmp_path), "--support"], home)
    assert r.returncode == 0, r.stderr
    live = json.loads(r.stdout)["falcolite_build"]["live_capture"]
    assert live == ("compiled in (CO-RE eBPF probe)" if LIVE
                    else "not compiled in (capture files only)"), live
    if not STATIC_DEPS:
        pytest.skip("built with STATIC_DEPS=no: libbpf and libelf are bundled shared")
    ext = list(unpack_dir(home).rglob("_cdriver*.so"))
    assert len(ext) == 1, ext
    text = subprocess.run([readelf, "-d", str(ext[0])], capture_output=True, text=True,
                          check=True).stdout
    libs = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+)\]$", text, re.M)
    assert "libc.so.6" in libs, text
    others = sorted(set(libs) - set(HOST_LIBS))
    assert not others, (f"the extension needs {others}: linked shared (a STATIC_DEPS=no "
                        "build is tested with STATIC_DEPS=no)")


def readme_glibc() -> tuple[int, int] | None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"glibc (\d+)\.(\d+) or later", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def test_glibc_floor_is_the_readme_one(binary: Path, home: Path) -> None:
    """The highest GLIBC_x.y symbol version of the launcher and of every ELF
    file it unpacks is at most what README states ("glibc X.Y or later")."""
    need_tool("objdump")
    assert run(binary, ["--version"], home).returncode == 0
    versions = glibc_versions(binary)
    for elf in elf_files(unpack_dir(home)):
        versions |= glibc_versions(elf)
    top = max(versions)
    stated = readme_glibc()
    assert stated is not None, (f"README.md should say the binary needs "
                                f"'glibc {top[0]}.{top[1]} or later'")
    assert top <= stated, f"needs GLIBC_{'.'.join(map(str, top))}, README says {stated}"


# ------------------------------------------------------------------ signals

def capture_blocks() -> tuple[bytes, list[bytes]]:
    """The demo capture as (everything before the first event, event blocks)."""
    data = gzip.decompress(DEMO.read_bytes())
    pos, head_end, events = 0, None, []
    while pos < len(data):
        btype, total = struct.unpack_from("<II", data, pos)
        if btype in EVENT_BLOCKS:
            head_end = pos if head_end is None else head_end
            events.append(data[pos:pos + total])
        pos += total
    assert head_end is not None
    return data[:head_end], events


class SlowFeeder(threading.Thread):
    """Writes the demo capture into a FIFO, one event every `delay` seconds,
    then keeps the FIFO open (a live source that went quiet) until stop()."""

    def __init__(self, fifo: Path, delay: float = 0.05) -> None:
        super().__init__(daemon=True)
        os.mkfifo(fifo)
        self.fifo = fifo
        self.delay = delay
        self.sent = 0
        self.error: BaseException | None = None
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        head, events = capture_blocks()
        fd = -1
        try:
            deadline = time.monotonic() + 60
            while fd < 0:
                try:
                    fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
                except OSError as err:  # ENXIO: no reader yet
                    if err.errno != 6 or time.monotonic() > deadline or self._halt.is_set():
                        raise
                    time.sleep(0.01)
            os.set_blocking(fd, True)
            os.write(fd, head)
            for blk in events:
                if self._halt.is_set():
                    break
                os.write(fd, blk)
                self.sent += 1
                time.sleep(self.delay)
            self._halt.wait(120)
        except BrokenPipeError:
            pass
        except BaseException as err:
            self.error = err
        finally:
            if fd >= 0:
                os.close(fd)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def wait_for(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def start_slow(binary: Path, home: Path, tmp: Path, extra: list[str] | None = None,
               ) -> tuple[subprocess.Popen, SlowFeeder, int]:
    """The binary replaying the demo capture through a FIFO, slowly; returns
    the launcher, the feeder and the agent's pid (the launcher's child)."""
    fifo = tmp / "events.fifo"
    feeder = SlowFeeder(fifo)
    feeder.start()
    tmpdir = tmp / "tmpdir"
    tmpdir.mkdir()
    if extra is None:  # the agent log on stderr, alerts on stdout
        conf = tmp / "falco.yaml"
        conf.write_text("log_stderr: true\nlog_syslog: false\nstdout_output:\n"
                        "  enabled: true\n", encoding="utf-8")
        extra = ["-c", str(conf)]
    p = subprocess.Popen(["env", "-i", f"HOME={home}", f"TMPDIR={tmpdir}", str(binary),
                          *extra, "-e", str(fifo)],
                         cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # env execs the launcher in place: p.pid is the launcher
    wait_for(lambda: feeder.sent >= 10 or p.poll() is not None, 30, "the feeder")
    assert p.poll() is None, p.communicate()
    kids = children(p.pid)
    assert len(kids) == 1, kids
    return p, feeder, kids[0]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signal_is_clean(binary: Path, home: Path, tmp_path: Path,
                              sig: signal.Signals) -> None:
    """SIGTERM or SIGINT to the launcher during a slow replay: the agent
    stops with its summary, exit code 0, nothing left behind."""
    before = set(Path("/tmp").glob("onefile_*"))
    p, feeder, agent = start_slow(binary, home, tmp_path)
    try:
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
    finally:
        feeder.stop()
        if p.poll() is None:
            p.kill()
    feeder.join(10)
    assert feeder.error is None, feeder.error
    assert p.returncode == 0, err
    assert "Events detected:" in out
    assert "Rule counts by severity:" in out
    assert "received, stopping" in err
    assert not Path(f"/proc/{agent}").exists(), "the agent outlived the launcher"
    assert not list((tmp_path / "tmpdir").iterdir())
    assert set(Path("/tmp").glob("onefile_*")) <= before
    assert len(list((home / ".cache" / "falcolite").iterdir())) == 1


def test_reopen_and_reload_through_the_child(binary: Path, home: Path, tmp_path: Path) -> None:
    """The launcher forwards only SIGINT/SIGTERM/SIGQUIT: SIGUSR1 and SIGHUP
    go to its child, as the unit's ExecReload and the logrotate script do
    (`pkill --parent`).  The keep-alive file output is reopened."""
    need_tool("pkill")
    events = tmp_path / "events.json"
    conf = tmp_path / "falco.yaml"
    conf.write_text(f"json_output: true\nlog_stderr: true\nlog_syslog: false\n"
                    f"stdout_output:\n  enabled: false\n"
                    f"file_output:\n  enabled: true\n  keep_alive: true\n"
                    f"  filename: {events}\n", encoding="utf-8")
    p, feeder, _agent = start_slow(binary, home, tmp_path, ["-c", str(conf)])
    try:
        wait_for(lambda: events.exists() and events.stat().st_size > 0, 30, "a first alert")
        events.rename(tmp_path / "events.json.1")
        subprocess.run(["pkill", "--signal", "USR1", "--parent", str(p.pid)], check=True)
        subprocess.run(["pkill", "--signal", "HUP", "--parent", str(p.pid)], check=True)
        wait_for(lambda: feeder.sent >= 46, 30, "the whole capture")
        wait_for(events.exists, 10, "the reopened file")
        assert p.poll() is None, "SIGUSR1/SIGHUP to the child stopped the launcher"
        p.send_signal(signal.SIGTERM)
        _out, err = p.communicate(timeout=30)
    finally:
        feeder.stop()
        if p.poll() is None:
            p.kill()
    assert p.returncode == 0, err
    assert "SIGHUP received, reloading" in err
    rules = [a["rule"] for f in (tmp_path / "events.json.1", events)
             for a in json_alerts(f.read_text())]
    assert sorted(rules) == DEMO_RULES


# ------------------------------------------------------------------ live

def unit_capabilities() -> list[str]:
    unit = (ROOT / "packaging" / "falcolite.service").read_text(encoding="utf-8")
    m = re.search(r"^CapabilityBoundingSet=(.+)$", unit, re.M)
    assert m, "the unit has no CapabilityBoundingSet"
    return m.group(1).split()


def test_live_capture_with_the_unit_capabilities(binary: Path, home: Path,
                                                 tmp_path: Path) -> None:
    """Live capture from the binary, under the systemd unit's capability
    bounding set and no_new_privs: a sensitive file read by a program of a
    unique name gives its alert; SIGTERM stops with exit code 0."""
    from falcolite.sources.live import live_unavailable

    why = "not running as root" if os.geteuid() != 0 else live_unavailable()
    if why is not None:
        msg = f"live capture unavailable: {why}"
        if os.environ.get("FALCOLITE_REQUIRE_LIVE") == "1":
            pytest.fail(msg + " (FALCOLITE_REQUIRE_LIVE=1)")
        pytest.skip(msg)
    setpriv = need_tool("setpriv")
    caps = ",".join(["-all"] + [f"+{c.removeprefix('CAP_').lower()}"
                                for c in unit_capabilities()])
    conf = tmp_path / "falco.yaml"
    conf.write_text("log_stderr: true\nlog_syslog: false\njson_output: true\n"
                    "stdout_output:\n  enabled: true\n", encoding="utf-8")
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("wb") as fo, err.open("wb") as fe:
        # setpriv and env exec in place: p.pid is the launcher
        p = subprocess.Popen([setpriv, "--no-new-privs", f"--bounding-set={caps}",
                              "--inh-caps=-all", "env", "-i", f"HOME={home}", str(binary),
                              "-c", str(conf)], stdout=fo, stderr=fe, cwd=tmp_path)
    try:
        wait_for(lambda: "Opening capture with the eBPF probe" in err.read_text()
                 or p.poll() is not None, 60, "the probe")
        assert p.poll() is None, err.read_text()
        time.sleep(0.5)  # /proc is read after the probe attaches
        reader = tmp_path / f"flbin-{os.getpid() % 100000}"
        shutil.copy("/bin/cat", reader)
        subprocess.run([str(reader), "/etc/shadow"], stdout=subprocess.DEVNULL, check=True)

        def seen() -> bool:
            return any(a["rule"] == "Read sensitive file untrusted"
                       and a["output_fields"].get("proc.name") == reader.name
                       for a in json_alerts(out.read_text()))

        wait_for(seen, 30, "the alert")
        p.send_signal(signal.SIGTERM)
        assert p.wait(30) == 0, err.read_text()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert "Events detected:" in out.read_text()


# ------------------------------------------------------------------ unpack folder

def test_noexec_tmp(binary: Path) -> None:
    """/tmp mounted noexec: the binary does not use it (it unpacks into
    $HOME/.cache).  An unpack folder on a noexec mount fails with a message
    that names the override, XDG_CACHE_HOME."""
    need_tool("unshare")
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a mount namespace here (unshare -m)")
    work = outside_tmp_dir()
    try:
        shutil.copy(DEMO, work / "demo.scap")
        shutil.copy(binary, work / "falcolite")
        script = f"""
            set -u
            mount -t tmpfs -o noexec tmpfs /tmp || exit 99
            cd {work}
            env -i HOME={work} {work}/falcolite -e {work}/demo.scap -o json_output=true \
                >{work}/ok.out 2>{work}/ok.err
            echo $? >{work}/ok.rc
            env -i HOME={work} XDG_CACHE_HOME=/tmp/cache {work}/falcolite --version \
                >{work}/bad.out 2>{work}/bad.err
            echo $? >{work}/bad.rc
        """
        r = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True,
                           text=True, timeout=120)
        if r.returncode == 99:
            pytest.skip("cannot mount a tmpfs in a mount namespace here")
        assert r.returncode == 0, r.stderr
        assert (work / "ok.rc").read_text().strip() == "0", (work / "ok.err").read_text()
        if any(p.exists() for p in HOST_CONFIGS):
            assert json_alerts((work / "ok.out").read_text())
        else:
            alerts = json_alerts((work / "ok.out").read_text())
            assert sorted(a["rule"] for a in alerts) == DEMO_RULES
        assert (work / "bad.rc").read_text().strip() != "0"
        bad = (work / "bad.err").read_text() + (work / "bad.out").read_text()
        assert "XDG_CACHE_HOME" in bad and "noexec" in bad, bad
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_xdg_cache_home_overrides(binary: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    r = run(binary, ["--version"], tmp_path / "home", cwd=tmp_path,
            env={"XDG_CACHE_HOME": str(cache)})
    assert r.returncode == 0, r.stderr
    assert [d.name.split("-")[0] for d in (cache / "falcolite").iterdir()] == [version()]
    assert not (tmp_path / "home").exists()


# ------------------------------------------------------------------ Debian package

@pytest.fixture(scope="module")
def installed(binary: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The package built from the binary (packaging/build_deb.sh, what
    `make deb` runs) and installed with dpkg into a root of its own."""
    need_tool("dpkg-deb")
    need_tool("objdump")
    out = tmp_path_factory.mktemp("deb")
    r = subprocess.run([str(ROOT / "packaging" / "build_deb.sh"), str(binary), str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    deb = out / f"falcolite_{version()}_amd64.deb"
    assert deb.exists()
    root = out / "root"
    (root / "var" / "lib" / "dpkg" / "updates").mkdir(parents=True)
    (root / "var" / "lib" / "dpkg" / "info").mkdir()
    (root / "var" / "lib" / "dpkg" / "status").touch()
    # the dependencies are the host's (the binary runs on it): check them there
    fields = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True,
                            text=True, check=True).stdout
    for dep in fields.split(","):
        name = dep.split()[0]
        st = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name],
                            capture_output=True, text=True)
        assert "install ok installed" in st.stdout, f"host lacks {name}"
    dpkg = ["dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends",
            "--log=/dev/null"]
    if os.geteuid() != 0:
        dpkg.append("--force-not-root")
    r = subprocess.run([*dpkg, "-i", str(deb)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    yield root
    r = subprocess.run([*dpkg, "--purge", "falcolite"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    left = [p for p in root.rglob("*") if "var/lib/dpkg" not in str(p) and p.is_file()]
    assert not left, left
    assert not (root / "etc" / "falcolite").exists()
    assert not (root / "var" / "log" / "falcolite").exists()


INSTALLED_FILES = {
    "usr/bin/falcolite": 0o755,
    "etc/falcolite/falco.yaml": 0o644,
    "etc/falcolite/falcolite_rules.yaml": 0o644,
    "etc/falcolite/falcolite_rules.local.yaml": 0o644,
    "lib/systemd/system/falcolite.service": 0o644,
    "etc/logrotate.d/falcolite": 0o644,
    "usr/share/doc/falcolite/copyright": 0o644,
}


def test_deb_layout(installed: Path) -> None:
    for rel, mode in INSTALLED_FILES.items():
        p = installed / rel
        assert p.is_file(), rel
        assert p.stat().st_mode & 0o7777 == mode, rel
    assert (installed / "etc/falcolite/rules.d").is_dir()
    assert (installed / "var/log/falcolite").stat().st_mode & 0o777 == 0o750
    assert (installed / "usr/bin/falcolite").read_bytes() == BINARY.read_bytes()
    assert ((installed / "etc/falcolite/falcolite_rules.yaml").read_bytes()
            == (ROOT / "falcolite/rules/falcolite_rules.yaml").read_bytes())
    conffiles = (installed / "var/lib/dpkg/info/falcolite.conffiles").read_text().split()
    assert conffiles == ["/etc/falcolite/falco.yaml",
                         "/etc/falcolite/falcolite_rules.local.yaml",
                         "/etc/logrotate.d/falcolite"]


def test_deb_config_runs(installed: Path, tmp_path: Path) -> None:
    """The packaged falco.yaml, its paths moved into the test root: the
    rules files load and the demo's alerts go to stdout and to the file."""
    conf = (installed / "etc/falcolite/falco.yaml").read_text()
    assert "/etc/falcolite/falcolite_rules.yaml" in conf
    assert "/var/log/falcolite/events.json" in conf
    conf = conf.replace("/etc/falcolite", str(installed / "etc/falcolite"))
    conf = conf.replace("/var/log/falcolite", str(installed / "var/log/falcolite"))
    (tmp_path / "falco.yaml").write_text(conf)
    binary = installed / "usr/bin/falcolite"
    home = tmp_path / "home"
    home.mkdir()
    r = run(binary, ["-c", str(tmp_path / "falco.yaml"), "-e", str(DEMO)], home)
    assert r.returncode == 0, r.stderr
    assert sorted(a["rule"] for a in json_alerts(r.stdout)) == DEMO_RULES
    events = (installed / "var/log/falcolite/events.json").read_text()
    assert sorted(a["rule"] for a in json_alerts(events)) == DEMO_RULES
    assert "falcolite_rules.local.yaml" in r.stderr
    r = run(binary, ["-V", str(installed / "etc/falcolite/falcolite_rules.yaml"),
                     "-V", str(installed / "etc/falcolite/falcolite_rules.local.yaml")], home)
    assert r.returncode == 0, r.stderr


def test_deb_unit_verifies(installed: Path, tmp_path: Path) -> None:
    """systemd-analyze verify on the installed unit (its ExecStart pointed at
    the test root's binary: the host has no /usr/bin/falcolite)."""
    analyze = need_tool("systemd-analyze", "systemd")
    unit = (installed / "lib/systemd/system/falcolite.service").read_text()
    assert "CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_SYS_RESOURCE CAP_SYS_PTRACE " \
           "CAP_DAC_READ_SEARCH\n" in unit
    assert "ExecStart=/usr/bin/falcolite " in unit
    (tmp_path / "falcolite.service").write_text(
        unit.replace("/usr/bin/falcolite", str(installed / "usr/bin/falcolite")))
    r = subprocess.run([analyze, "verify", str(tmp_path / "falcolite.service")],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0 and "falcolite" not in r.stderr + r.stdout:
        pytest.skip(f"systemd-analyze cannot run here: {r.stderr.strip()}")
    assert r.returncode == 0, r.stderr
    assert "falcolite.service" not in r.stderr, r.stderr


def test_deb_logrotate_parses(installed: Path, tmp_path: Path) -> None:
    logrotate = need_tool("logrotate")
    r = subprocess.run([logrotate, "-d", "-s", str(tmp_path / "state"),
                        str(installed / "etc/logrotate.d/falcolite")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "error" not in (r.stdout + r.stderr).lower(), r.stdout + r.stderr
