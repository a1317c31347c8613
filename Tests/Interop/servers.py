"""Start and stop the real servers the interop and browser tests talk to.

Each server runs as its own process group on a free 127.0.0.1 port, with its working directory in a
temporary folder; it is stopped by its pid (the process group it leads), never by name.

Environment:
  SESSIONKIT_DEMO_BIN     path of the built `sessionkit-demo` (default: .build/debug/sessionkit-demo,
                          relative to the repository root)
  SESSIONKIT_VAPOR_DEMO_BIN  path of the built `sessionkit-vapor-demo` (default:
                          .build/debug/sessionkit-vapor-demo), the peer when SESSIONKIT_INTEROP_PEER=vapor
  SESSIONKIT_INTEROP_PEER `demo` (default), `vapor` or `flask`: with `vapor`, the Swift side is the
                          same tutorial routes on Vapor (`sessionkit-vapor-demo`, same options); with
                          `flask`, it is a second Flask reference app. Flask against Flask must pass
                          the whole suite; that checks the suite itself.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
FLASK_APP = Path(__file__).resolve().parent / "flask_ref_app.py"


def demo_bin() -> Path:
    p = Path(os.environ.get("SESSIONKIT_DEMO_BIN", ".build/debug/sessionkit-demo"))
    return p if p.is_absolute() else REPO_ROOT / p


def vapor_demo_bin() -> Path:
    p = Path(os.environ.get("SESSIONKIT_VAPOR_DEMO_BIN", ".build/debug/sessionkit-vapor-demo"))
    return p if p.is_absolute() else REPO_ROOT / p


def peer_kind() -> str:
    kind = os.environ.get("SESSIONKIT_INTEROP_PEER", "demo")
    if kind not in ("demo", "vapor", "flask"):
        raise ValueError(f"SESSIONKIT_INTEROP_PEER must be demo, vapor or flask, not {kind!r}")
    return kind


def peer_bin() -> Path:
    """The SessionKit server under test: sessionkit-vapor-demo for the vapor peer, else sessionkit-demo."""
    return vapor_demo_bin() if peer_kind() == "vapor" else demo_bin()


def is_sessionkit(argv0: str) -> bool:
    """Whether a server started as `argv0` is one of SessionKit's demos (Hummingbird or Vapor)."""
    return argv0 in (str(demo_bin()), str(vapor_demo_bin()))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One started server process."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, workdir: Path):
        self.name = name
        self.argv = argv
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            argv, cwd=workdir, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )

    def url(self, path: str) -> str:
        return self.base + path

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} ({' '.join(self.argv)}) exited with {self.proc.returncode} before it was ready:\n"
                    + self.log_tail())
            try:
                # /cookie/get touches neither the session nor any state.
                requests.get(self.url("/cookie/get"), timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} was not ready after {timeout}s:\n" + self.log_tail())

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the group this process leads
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        self._log.close()

    def __repr__(self) -> str:
        return f"<{self.name} {self.base}>"


def _base_env() -> dict[str, str]:
    env = dict(os.environ)
    for k in ("FLASK_SECRET_KEY", "FLASK_SECRET_KEY_FALLBACKS", "FLASK_SESSION_LIFETIME", "SESSIONKIT_SECRET",
              "SESSIONKIT_SECRET_FALLBACKS"):
        env.pop(k, None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_flask(workdir: Path, secret: str, fallbacks: list[str] | None = None,
                lifetime: int | None = None, name: str = "flask") -> Server:
    env = _base_env()
    env["FLASK_SECRET_KEY"] = secret
    if fallbacks:
        env["FLASK_SECRET_KEY_FALLBACKS"] = ",".join(fallbacks)
    if lifetime is not None:
        env["FLASK_SESSION_LIFETIME"] = str(lifetime)
    last_error = None
    for _ in range(3):  # a free port can be taken between the probe and the bind
        port = free_port()
        server = Server(name, [sys.executable, str(FLASK_APP), str(port)], env, port, workdir)
        try:
            server.wait_ready()
            return server
        except RuntimeError as e:
            server.stop()
            last_error = e
    raise last_error  # type: ignore[misc]


_help_cache: dict[str, str] = {}


def demo_help(binary: Path | None = None) -> str:
    """`sessionkit-demo --help` (or `binary`'s, cached), or '' when there is no binary."""
    b = str(binary or demo_bin())
    if b not in _help_cache:
        try:
            out = subprocess.run([b, "--help"], capture_output=True, text=True, timeout=60)
            _help_cache[b] = out.stdout + out.stderr
        except OSError:
            _help_cache[b] = ""
    return _help_cache[b]


def demo_option(*patterns: str, binary: Path | None = None) -> str | None:
    """The first `--option` in the demo's (or `binary`'s) --help whose name matches one of `patterns` (regexes)."""
    options = re.findall(r"(--[a-z][a-z0-9-]*)", demo_help(binary))
    for pat in patterns:
        for opt in options:
            if re.fullmatch(pat, opt):
                return opt
    return None


def start_demo(workdir: Path, secret: str, flask_compat: bool = True, fmt: str | None = None,
               extra: list[str] | None = None, name: str = "demo", binary: Path | None = None) -> Server:
    """Starts sessionkit-demo, or `binary` (sessionkit-vapor-demo takes the same options)."""
    b = binary or demo_bin()
    if not (b.is_file() and os.access(b, os.X_OK)):
        raise FileNotFoundError(
            f"the demo binary {b} does not exist; build it (swift build) or set "
            f"{'SESSIONKIT_VAPOR_DEMO_BIN' if b == vapor_demo_bin() else 'SESSIONKIT_DEMO_BIN'}")
    env = _base_env()
    env.setdefault("LOG_LEVEL", "warning")
    last_error = None
    for _ in range(3):
        port = free_port()
        argv = [str(b), "--host", "127.0.0.1", "--port", str(port), "--secret", secret]
        if flask_compat:
            argv.append("--flask-compat")
        if fmt:
            argv += ["--format", fmt]
        argv += extra or []
        server = Server(name, argv, env, port, workdir)
        try:
            server.wait_ready()
            return server
        except RuntimeError as e:
            server.stop()
            last_error = e
    raise last_error  # type: ignore[misc]


def make_workdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
