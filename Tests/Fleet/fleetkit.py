"""Helpers of the fleet tests: start and stop a fleet with scripts/fleet, and browser-like clients.

Every address contacted is 127.0.0.1. Cookies are handled by hand: a client sends one raw `Cookie`
header and reads every raw `Set-Cookie` header of each response, so the tests see exactly what a
browser would be told (a new ID, a deletion) and nothing is followed or stored behind their back.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
FLEET = REPO_ROOT / "scripts" / "fleet"
WHO = re.compile(r'<strong id="who">(.*?)</strong>')
VISITS = re.compile(r'<strong id="visits">(\d+)</strong>')
CART_ROW = re.compile(r'<td class="name">(.*?)</td><td class="quantity">(\d+)</td>')
REQUEST_TIMEOUT = 20  # seconds, for any one request


def demo_bin() -> Path:
    p = Path(os.environ.get("SESSIONKIT_DEMO_BIN", ".build/debug/sessionkit-demo"))
    return p if p.is_absolute() else REPO_ROOT / p


def demo_help() -> str:
    try:
        out = subprocess.run([str(demo_bin()), "--help"], capture_output=True, text=True, timeout=60)
        return out.stdout + out.stderr
    except OSError:
        return ""


# ------------------------------------------------------------------------------------------------
# the fleet
# ------------------------------------------------------------------------------------------------

@dataclass
class Instance:
    index: int
    port: int
    pid: int
    log: Path

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                return f.read().split(") ", 1)[1][0] not in "ZX"   # a zombie is dead
        except (OSError, IndexError):
            return False


class Fleet:
    """One fleet started by `scripts/fleet start STORE`, with its own state file."""

    def __init__(self, store: str, instances: int = 3):
        self.store = store
        self.instances_wanted = instances
        self.state_dir = Path(tempfile.mkdtemp(prefix="sessionkit-fleet-test-"))
        self.state_file = self.state_dir / "fleet.env"
        self.env = dict(os.environ)
        self.env["SESSIONKIT_FLEET_STATE"] = str(self.state_file)
        self.env["SESSIONKIT_DEMO_BIN"] = str(demo_bin())
        self.state: dict[str, str] = {}

    # scripts/fleet ----------------------------------------------------------------------------
    def run(self, *args: str, timeout: float = 240) -> str:
        out = subprocess.run([str(FLEET), *args], env=self.env, capture_output=True, text=True,
                             timeout=timeout, stdin=subprocess.DEVNULL)
        if out.returncode != 0:
            raise RuntimeError(f"scripts/fleet {' '.join(args)} exited with {out.returncode}:\n"
                               f"{out.stdout}\n{out.stderr}")
        self.reload_state()
        return out.stdout

    def reload_state(self) -> None:
        self.state = {}
        if self.state_file.exists():
            for line in self.state_file.read_text().splitlines():
                if "=" in line:
                    k, v = line.split("=", 1)
                    self.state[k] = v

    def start(self) -> None:
        out = self.run("start", self.store, "--instances", str(self.instances_wanted))
        assert re.search(r"^SESSIONKIT_FLEET_URL=http://127\.0\.0\.1:\d+$", out, re.M), out

    def stop(self) -> None:
        try:
            self.run("stop", timeout=120)
        finally:
            try:
                self.state_dir.rmdir()
            except OSError:
                pass

    def store_stop(self) -> None:
        self.run("store-stop", timeout=60)

    def store_start(self) -> None:
        self.run("store-start", timeout=90)

    def instance_start(self, index: int) -> None:
        self.run("instance-start", str(index), timeout=90)

    # what it runs -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.state["SESSIONKIT_FLEET_URL"]

    @property
    def dir(self) -> Path:
        return Path(self.state["SESSIONKIT_FLEET_DIR"])

    @property
    def instances(self) -> list[Instance]:
        n = int(self.state["SESSIONKIT_FLEET_INSTANCES"])
        return [Instance(i, int(self.state[f"SESSIONKIT_FLEET_INSTANCE_{i}_PORT"]),
                         int(self.state[f"SESSIONKIT_FLEET_INSTANCE_{i}_PID"]),
                         Path(self.state[f"SESSIONKIT_FLEET_INSTANCE_{i}_LOG"])) for i in range(1, n + 1)]

    @property
    def upstreams(self) -> set[str]:
        return {i.addr for i in self.instances}

    def diagnostics(self, lines: int = 30) -> str:
        """The tails of every log of the fleet, for a failure's message."""
        parts = []
        files = [i.log for i in self.instances] + [self.dir / "nginx-error.log"]
        if self.store == "redis":
            files.append(Path(self.state["SESSIONKIT_FLEET_STORE_DIR"]) / "redis.log")
        else:
            files.append(Path(self.state["SESSIONKIT_FLEET_STORE_DIR"]) / "server.log")
        for f in files:
            try:
                tail = f.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                tail = ["(unreadable)"]
            parts.append(f"--- {f}\n" + "\n".join(tail))
        return "\n".join(parts)

    def count_sessions(self) -> int:
        """Sessions in the store: Redis keys `<prefix>:s:<64 hex>` (one hash per session, see
        RedisSessionStore), or the rows of PostgreSQL's `sessionkit_sessions`."""
        port = self.state["SESSIONKIT_FLEET_STORE_PORT"]
        if self.store == "redis":
            out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", port, "--scan"],
                                 capture_output=True, text=True, timeout=30, check=True)
            return sum(1 for k in out.stdout.split() if re.fullmatch(r".+:s:[0-9a-f]{64}", k))
        out = subprocess.run(["psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", port, "-U", "sessionkit",
                              "-d", "sessionkit", "-c", "SELECT count(*) FROM sessionkit_sessions"],
                             capture_output=True, text=True, timeout=30, check=True)
        return int(out.stdout.strip())


# ------------------------------------------------------------------------------------------------
# browsers
# ------------------------------------------------------------------------------------------------

@dataclass
class SetCookie:
    name: str
    value: str
    attributes: dict[str, str]
    raw: str

    @property
    def deletes(self) -> bool:
        return self.attributes.get("max-age") == "0" or self.value == "" or \
            "1970" in self.attributes.get("expires", "")


def parse_set_cookie(raw: str) -> SetCookie:
    parts = [p.strip() for p in raw.split(";")]
    name, _, value = parts[0].partition("=")
    attributes = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attributes[k.strip().lower()] = v.strip()
    return SetCookie(name.strip(), value.strip(), attributes, raw)


@dataclass
class Answer:
    """One request and its response (or the exception it raised), with when it ran."""
    method: str
    url: str
    cookie: str
    started: float
    ended: float
    status: int | None = None
    body: str = ""
    location: str | None = None
    upstream: str = ""            # the instance that answered last (nginx's $upstream_addr)
    upstream_chain: str = ""       # every instance nginx tried, in order
    set_cookies: list[SetCookie] = field(default_factory=list)
    error: str | None = None

    @property
    def who(self) -> str | None:
        m = WHO.search(self.body)
        return m.group(1) if m else None

    @property
    def visits(self) -> int | None:
        m = VISITS.search(self.body)
        return int(m.group(1)) if m else None

    def cart(self) -> dict[str, int]:
        return {name: int(q) for name, q in CART_ROW.findall(self.body)}

    def describe(self) -> str:
        if self.error:
            return f"{self.method} {self.url} -> {self.error}"
        cookies = "; ".join(c.raw for c in self.set_cookies) or "none"
        return (f"{self.method} {self.url} [Cookie: {self.cookie[:24]}...] -> {self.status} via {self.upstream_chain or '?'}"
                f" (Location: {self.location}; Set-Cookie: {cookies}; body: {self.body[:200]!r})")


def send(method: str, url: str, cookie: str = "", data: dict | None = None, user_agent: str = "python-requests fleet-test",
         origin: str | None = None) -> Answer:
    """One request, no redirects followed, no cookie stored; never raises for a transport error."""
    headers = {"User-Agent": user_agent, "Accept": "text/html"}
    if cookie:
        headers["Cookie"] = cookie
    if method == "POST":
        # What a same-origin browser sends with a form post.
        headers["Origin"] = origin or re.match(r"https?://[^/]+", url).group(0)
        headers["Sec-Fetch-Site"] = "same-origin"
        headers["Sec-Fetch-Mode"] = "navigate"
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.monotonic()
    try:
        r = requests.request(method, url, data=data or ({} if method == "POST" else None), headers=headers,
                             allow_redirects=False, timeout=REQUEST_TIMEOUT)
    except requests.RequestException as e:
        return Answer(method, url, cookie, started, time.monotonic(), error=f"{type(e).__name__}: {e}")
    ended = time.monotonic()
    chain = r.headers.get("X-Upstream", "")
    return Answer(method, url, cookie, started, ended, status=r.status_code, body=r.text,
                  location=r.headers.get("Location"), upstream=chain.split(",")[-1].strip(), upstream_chain=chain,
                  set_cookies=[parse_set_cookie(v) for v in r.raw.headers.getlist("Set-Cookie")])


class Browser:
    """A browser with its own cookie jar (one host: the balancer, or an instance addressed directly;
    the cookies are host-only and the same for all of them, as they would be behind one domain)."""

    def __init__(self, base: str, name: str):
        self.base = base
        self.name = name
        self.user_agent = f"python-requests fleet-test {name}"
        self.jar: dict[str, str] = {}
        self.lock = threading.Lock()

    @property
    def cookie(self) -> str:
        with self.lock:
            return "; ".join(f"{k}={v}" for k, v in self.jar.items())

    def request(self, method: str, path: str, data: dict | None = None, base: str | None = None,
                keep_cookies: bool = True) -> Answer:
        base = base or self.base
        answer = send(method, base + path, self.cookie, data, self.user_agent, origin=base)
        if keep_cookies:
            with self.lock:
                for c in answer.set_cookies:
                    if c.deletes:
                        self.jar.pop(c.name, None)
                    else:
                        self.jar[c.name] = c.value
        return answer

    def get(self, path: str, **kw) -> Answer:
        return self.request("GET", path, **kw)

    def post(self, path: str, data: dict | None = None, **kw) -> Answer:
        return self.request("POST", path, data, **kw)

    def login(self, username: str) -> Answer:
        a = self.post("/app/login", {"username": username})
        assert a.status in (302, 303), a.describe()
        return a
