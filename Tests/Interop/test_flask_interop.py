"""Live interop: the real Flask 3.1.3 reference app against `sessionkit-demo --flask-compat` (or,
with SESSIONKIT_INTEROP_PEER=vapor, the same routes on Vapor: `sessionkit-vapor-demo --flask-compat`).

Both servers run with the same secret on loopback ports. Cookies issued by one are sent to the other
(both directions), and for the same request at the same second the two responses must be equal:
status, body, every Set-Cookie header byte for byte, and Vary. Cookies are handled by hand (a raw
`Cookie` request header); Set-Cookie headers are read raw from the response.

The routes that echo a value (`/get`, `POST /login`, `/cookie/get`) answer `text/html`, and the demo
HTML-escapes what it echoes as `markupsafe.escape` does (the reference app, like the Flask tutorial
it follows, does not): for those routes the demo's body is compared with the escaped Flask body,
which for ordinary values (no `<>&"'`) is the same bytes.

Environment: see servers.py (SESSIONKIT_DEMO_BIN, SESSIONKIT_VAPOR_DEMO_BIN; SESSIONKIT_INTEROP_PEER=vapor
runs it against the Vapor demo, =flask checks the suite itself by running Flask against Flask).
"""
from __future__ import annotations

import hashlib
import json
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
import requests
from flask.json.tag import TaggedJSONSerializer
from markupsafe import escape
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

import servers

SECRET = "interop-secret-7c1e2a"          # both main servers
OTHER = "interop-wrong-secret-0b9d"        # a third secret: its cookies must be rejected
NATIVE_SECRET = "interop-native-secret-at-least-32-bytes-long"  # native formats need >= 32 bytes
NEW = "interop-rotated-secret-55aa"        # key rotation: the new SECRET_KEY, SECRET the fallback
DEFAULT_MAX_AGE = 31 * 24 * 3600           # PERMANENT_SESSION_LIFETIME default, seconds
DELETE_SESSION = "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/"
DELETE_USER = "user=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"


# ------------------------------------------------------------------------------------------------
# servers
# ------------------------------------------------------------------------------------------------

def start_peer(workdir, secret, fallbacks=None, lifetime=None, name="peer"):
    """The server under test: the demo (Hummingbird or Vapor) in Flask-compatible mode (or a second
    Flask, see servers.py)."""
    if servers.peer_kind() == "flask":
        return servers.start_flask(workdir, secret, fallbacks=fallbacks, lifetime=lifetime, name=name + "-flask")
    binary = servers.peer_bin()
    suffix = "-vapor" if servers.peer_kind() == "vapor" else "-demo"
    extra = []
    if fallbacks:
        opt = servers.demo_option(r"--.*fallback.*", r"--previous-secrets?", r"--old-secrets?", binary=binary)
        if not opt:
            pytest.skip("sessionkit-demo --help lists no option for fallback/previous secrets "
                        "(Flask's SECRET_KEY_FALLBACKS), so key rotation cannot be checked on the demo")
        for f in fallbacks:
            extra += [opt, f]
    if lifetime is not None:
        opt = servers.demo_option(r"--.*lifetime.*", r"--max-age", binary=binary)
        if not opt:
            pytest.skip("sessionkit-demo --help lists no session lifetime option "
                        "(Flask's PERMANENT_SESSION_LIFETIME), so a 1-second lifetime cannot be set on the demo")
        extra += [opt, str(lifetime)]
    return servers.start_demo(workdir, secret, flask_compat=True, extra=extra, name=name + suffix, binary=binary)


@pytest.fixture(scope="module")
def workdir():
    return servers.make_workdir("sessionkit-interop-")


@pytest.fixture(scope="module")
def flask_srv(workdir):
    s = servers.start_flask(workdir, SECRET, name="flask")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def peer(workdir):
    s = start_peer(workdir, SECRET, name="peer")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def other_servers(workdir):
    """Flask and the peer, both with a different secret (their cookies must not verify under SECRET)."""
    f = servers.start_flask(workdir, OTHER, name="flask-other")
    try:
        p = start_peer(workdir, OTHER, name="peer-other")
    except BaseException:
        f.stop()
        raise
    yield f, p
    p.stop()
    f.stop()


@pytest.fixture(scope="module")
def flask_rotated(workdir):
    s = servers.start_flask(workdir, NEW, fallbacks=[SECRET], name="flask-rotated")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def peer_rotated(workdir):
    s = start_peer(workdir, NEW, fallbacks=[SECRET], name="peer-rotated")
    yield s
    s.stop()


# ------------------------------------------------------------------------------------------------
# HTTP with hand-made cookies
# ------------------------------------------------------------------------------------------------

@dataclass
class Resp:
    server: str
    request: str
    status: int
    body: bytes
    set_cookie: list[str]
    vary: list[str]
    content_type: str | None
    headers: list[tuple[str, str]] = field(default_factory=list)
    unescaped_echo: bool = False  # a Flask answer of a route that echoes (the demo escapes those)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def cookie(self, name: str = "session") -> str | None:
        """The value of the last Set-Cookie for `name` (as sent, quotes included), or None."""
        value = None
        for h in self.set_cookie:
            n, _, rest = h.partition("=")
            if n == name:
                value = rest.split(";", 1)[0]
        return value

    @property
    def shown(self) -> bytes:
        """The body as the demo writes it: HTML-escaped if it is Flask's unescaped echo."""
        if not self.unescaped_echo:
            return self.body
        return str(escape(self.body.decode("utf-8", "surrogateescape"))).encode("utf-8", "surrogateescape")

    def describe(self) -> str:
        return (f"  {self.server}: {self.status} body={self.body!r}\n"
                f"      Set-Cookie={self.set_cookie!r}\n      Vary={self.vary!r} Content-Type={self.content_type!r}")


ECHOES = {("GET", "/get"), ("POST", "/login"), ("GET", "/cookie/get")}


def is_demo(server) -> bool:
    """A SessionKit demo (Hummingbird or Vapor), not Flask."""
    return servers.is_sessionkit(server.argv[0])


def echo(server, text: str) -> str:
    """What `server` answers on a route that echoes `text`: the demo HTML-escapes it."""
    return str(escape(text)) if is_demo(server) else text


def call(server, method: str, path: str, cookie: str | bytes | None = None, params=None, data=None) -> Resp:
    headers = {}
    if cookie is not None:
        headers["Cookie"] = cookie
    if isinstance(params, dict):
        # spaces as %20 (not '+'), so that these checks do not depend on '+' decoding, which
        # test_query_plus_is_space checks on its own
        params = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    r = requests.request(method, server.url(path), headers=headers, params=params, data=data,
                         allow_redirects=False, timeout=20)
    raw = r.raw.headers
    req = f"{method} {r.request.path_url}" + (f" Cookie: {cookie!r}" if cookie is not None else "") \
        + (f" form={data!r}" if data else "")
    return Resp(server=server.name, request=req, status=r.status_code, body=r.content,
                set_cookie=list(raw.getlist("Set-Cookie")), vary=list(raw.getlist("Vary")),
                content_type=r.headers.get("Content-Type"), headers=list(raw.items()),
                unescaped_echo=not is_demo(server) and (method, path) in ECHOES)


def at_same_second(fn, tries: int = 6):
    """Runs fn() so that it starts and ends within one wall-clock second (retrying otherwise):
    session timestamps and Expires dates are whole seconds."""
    result = None
    for _ in range(tries):
        frac = time.time() % 1
        if frac > 0.6:
            time.sleep(1.02 - frac)
        t0 = time.time()
        result = fn()
        if int(t0) == int(time.time()):
            return result, True
    return result, False


def pair(a, b, method, path, cookie=None, params=None, data=None):
    """The same request to both servers within one second: (response of a, response of b)."""
    (ra, rb), same = at_same_second(lambda: (call(a, method, path, cookie, params, data),
                                             call(b, method, path, cookie, params, data)))
    return ra, rb, same


EXPIRES_RE = re.compile(r"Expires=[^;]*")


def assert_same(ra: Resp, rb: Resp, same_second: bool = True, what: str = ""):
    """Status, body, Set-Cookie (exact bytes) and Vary equal."""
    sa, sb = ra.set_cookie, rb.set_cookie
    if not same_second:  # only the Expires second may differ then
        sa = [EXPIRES_RE.sub("Expires=<t>", h) for h in sa]
        sb = [EXPIRES_RE.sub("Expires=<t>", h) for h in sb]
    problems = []
    if ra.status != rb.status:
        problems.append("status")
    if ra.shown != rb.shown:
        problems.append("body")
    if sa != sb:
        problems.append("Set-Cookie")
    if ra.vary != rb.vary:
        problems.append("Vary")
    assert not problems, (f"{what} responses differ in {', '.join(problems)} for {ra.request}\n"
                          f"{ra.describe()}\n{rb.describe()}")


def sess(value: str) -> str:
    return f"session={value}"


def serializer(secret: str, timestamp: int | None = None) -> URLSafeTimedSerializer:
    """Flask's session serializer (flask/sessions.py), optionally with a fixed timestamp."""
    signer = TimestampSigner
    if timestamp is not None:
        signer = type("FixedTimestampSigner", (TimestampSigner,), {"get_timestamp": lambda self: timestamp})
    return URLSafeTimedSerializer(secret, salt="cookie-session", serializer=TaggedJSONSerializer(),
                                  signer=signer,
                                  signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1})


def craft(secret: str, data: dict, timestamp: int | None = None) -> str:
    v = serializer(secret, timestamp).dumps(data)
    return v if isinstance(v, str) else v.decode()


def decode(secret: str, cookie: str, max_age: int = DEFAULT_MAX_AGE):
    return serializer(secret).loads(cookie, max_age=max_age)


def timestamp_of(cookie: str) -> int:
    from itsdangerous.encoding import base64_decode, bytes_to_int
    return bytes_to_int(base64_decode(cookie.rsplit(".", 2)[1]))


# ------------------------------------------------------------------------------------------------
# Route contract: every route, with several cookie states, gives the same response on both servers
# ------------------------------------------------------------------------------------------------

ROUTES = [
    ("GET", "/", None, None),
    ("GET", "/", {"username": "bob"}, None),
    ("GET", "/get", None, None),
    ("GET", "/delete/", None, None),
    ("GET", "/clear", None, None),
    ("GET", "/login", None, None),
    ("POST", "/login", None, {"username": "carol"}),
    ("GET", "/counter", None, None),
    ("GET", "/cookie/set", None, None),
    ("GET", "/cookie/get", None, None),
    ("GET", "/cookie/delete", None, None),
]
COOKIE_STATES = ["no-cookie", "username", "username+n", "permanent", "bad-signature", "empty-session-cookie"]


def cookie_for_state(state: str, flask_srv) -> str | None:
    if state == "no-cookie":
        return None
    if state == "username":
        return sess(call(flask_srv, "GET", "/", params={"username": "alice"}).cookie())
    if state == "username+n":
        c = sess(call(flask_srv, "GET", "/", params={"username": "alice"}).cookie())
        return sess(call(flask_srv, "GET", "/counter", cookie=c).cookie())
    if state == "permanent":
        return sess(call(flask_srv, "POST", "/login", data={"username": "perm"}).cookie())
    if state == "bad-signature":
        v = call(flask_srv, "GET", "/", params={"username": "alice"}).cookie()
        return sess(v[:-5] + ("AAAAA" if v[-5:] != "AAAAA" else "BBBBB"))
    if state == "empty-session-cookie":
        return "session="
    raise AssertionError(state)


@pytest.mark.parametrize("state", COOKIE_STATES)
@pytest.mark.parametrize("method,path,params,data", ROUTES,
                         ids=[f"{m} {p}{'?' + '&'.join(f'{k}={v}' for k, v in (q or {}).items()) if q else ''}"
                              for m, p, q, _ in ROUTES])
def test_route_contract_same_response(flask_srv, peer, method, path, params, data, state):
    """Status, body, Set-Cookie bytes and Vary equal, for each route and cookie state."""
    cookie = cookie_for_state(state, flask_srv)
    rf, rp, same = pair(flask_srv, peer, method, path, cookie, params, data)
    assert_same(rf, rp, same)


@pytest.mark.parametrize("method,path,params,data", ROUTES,
                         ids=[f"{m} {p}{'?' + '&'.join(f'{k}={v}' for k, v in (q or {}).items()) if q else ''}"
                              for m, p, q, _ in ROUTES])
def test_route_contract_vary_and_content_type(flask_srv, peer, method, path, params, data):
    """Vary: Cookie present on exactly the same routes, and the same Content-Type."""
    cookie = cookie_for_state("username", flask_srv)
    for c in (None, cookie):
        rf, rp, _ = pair(flask_srv, peer, method, path, c, params, data)
        assert rf.vary == rp.vary, f"Vary differs for {rf.request}\n{rf.describe()}\n{rp.describe()}"
        assert rf.content_type == rp.content_type, \
            f"Content-Type differs for {rf.request}\n{rf.describe()}\n{rp.describe()}"


# ------------------------------------------------------------------------------------------------
# Sessions crossing servers
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("order", ["F-S-F-S", "S-F-S-F"])
def test_counter_chain(flask_srv, peer, order):
    """/counter, each step on the other server, with the cookie the previous step set."""
    by = {"F": flask_srv, "S": peer}
    cookie = None
    for i, k in enumerate(order.split("-"), start=1):
        r = call(by[k], "GET", "/counter", cookie)
        assert (r.status, r.text) == (200, str(i)), f"step {i}:\n{r.describe()}"
        v = r.cookie()
        assert v, f"step {i}: no session cookie\n{r.describe()}"
        # the other server, same request at the same second: the same cookie bytes
        other = by["S" if k == "F" else "F"]
        rf, ro, same = pair(by[k], other, "GET", "/counter", cookie)
        assert_same(rf, ro, same, what=f"step {i}")
        cookie = sess(v)
    assert decode(SECRET, cookie.split("=", 1)[1]) == {"n": 4}


@pytest.mark.parametrize("direction", ["flask->peer", "peer->flask"])
def test_set_get_delete_clear_across(flask_srv, peer, direction):
    a, b = (flask_srv, peer) if direction == "flask->peer" else (peer, flask_srv)
    r = call(a, "GET", "/", params={"username": "liefyuan"})
    assert (r.status, r.text) == (200, "Session set")
    assert re.fullmatch(r"session=[A-Za-z0-9_.-]+; HttpOnly; Path=/", r.set_cookie[0]), r.describe()
    c1 = sess(r.cookie())
    r = call(b, "GET", "/get", c1)
    assert (r.status, r.text, r.set_cookie, r.vary) == (200, "liefyuan", [], ["Cookie"]), r.describe()

    # add n, then /delete/ removes only username: the cookie is re-issued with n
    c2 = sess(call(b, "GET", "/counter", c1).cookie())
    rf, rp, same = pair(flask_srv, peer, "GET", "/delete/", c2)
    assert_same(rf, rp, same)
    assert rf.text == "deleted" and rf.cookie() and decode(SECRET, rf.cookie()) == {"n": 1}
    r = call(a, "GET", "/get", sess(rp.cookie() if a is flask_srv else rf.cookie()))
    assert r.text == "not set"

    # /delete/ of the last key: the deletion header, equal on both
    rf, rp, same = pair(flask_srv, peer, "GET", "/delete/", c1)
    assert_same(rf, rp, same)
    assert rf.set_cookie == [DELETE_SESSION], rf.describe()

    # /clear: deletion header, on both, with and without a session
    for c in (c2, None):
        rf, rp, same = pair(flask_srv, peer, "GET", "/clear", c)
        assert_same(rf, rp, same)
        assert (rf.text, rf.set_cookie, rf.vary) == ("cleared", [DELETE_SESSION], ["Cookie"]), rf.describe()


@pytest.mark.parametrize("direction", ["flask->peer", "peer->flask"])
def test_permanent_login_continues(flask_srv, peer, direction):
    a, b = (flask_srv, peer) if direction == "flask->peer" else (peer, flask_srv)
    # the login itself: same bytes on both (at the same second)
    rf, rp, same = pair(flask_srv, peer, "POST", "/login", data={"username": "dora"})
    assert_same(rf, rp, same, what="POST /login")
    r = rf if a is flask_srv else rp
    assert r.text == "logged in as dora"
    m = re.fullmatch(r"session=([A-Za-z0-9_.-]+); Expires=([^;]+); HttpOnly; Path=/", r.set_cookie[0])
    assert m, r.describe()
    expires = parsedate_to_datetime(m.group(2))
    assert abs((expires - datetime.now(timezone.utc)) - timedelta(days=31)) < timedelta(seconds=10)
    assert decode(SECRET, m.group(1)) == {"_permanent": True, "username": "dora"}
    cookie = sess(m.group(1))

    time.sleep(1.1)  # so that the refreshed cookie has a later timestamp
    # read-only on the other server: a permanent session is refreshed (SESSION_REFRESH_EACH_REQUEST)
    r = call(b, "GET", "/get", cookie)
    assert (r.status, r.text) == (200, "dora"), r.describe()
    assert r.cookie() and timestamp_of(r.cookie()) > timestamp_of(m.group(1)), r.describe()
    rf, rp, same = pair(flask_srv, peer, "GET", "/get", cookie)
    assert_same(rf, rp, same, what="refresh of a permanent session")
    # and back on the first server with the refreshed cookie
    r2 = call(a, "GET", "/counter", sess(r.cookie()))
    assert r2.text == "1" and "Expires=" in r2.set_cookie[0], r2.describe()
    assert call(b, "GET", "/get", sess(r2.cookie())).text == "dora"


@pytest.mark.parametrize("login_name", ["用户 café 😀", "a b;c,d\"e\\f"])
def test_permanent_login_unicode_form(flask_srv, peer, login_name):
    rf, rp, same = pair(flask_srv, peer, "POST", "/login", data={"username": login_name})
    assert_same(rf, rp, same)
    assert rf.text == f"logged in as {login_name}"
    for a, b in ((flask_srv, peer), (peer, flask_srv)):
        r = call(a, "POST", "/login", data={"username": login_name})
        assert call(b, "GET", "/get", sess(r.cookie())).text == echo(b, login_name)


USERNAMES = {
    "unicode": "用户 café 😀",
    "escapes": "quote\" backslash\\ slash/ tab\t nl\n del\x7f ctl\x01",
    "compressed": "a" * 300,
    "compressed-unicode": "😀用户" * 80,
    "large-random": "x7Kq9Zp2Lm4Rt8Wv1Yb6Nc3Hd5Jf0Gs" * 40,
}


@pytest.mark.parametrize("kind", list(USERNAMES))
def test_session_values_cross(flask_srv, peer, kind):
    name = USERNAMES[kind]
    rf, rp, same = pair(flask_srv, peer, "GET", "/", params={"username": name})
    assert_same(rf, rp, same)
    if kind.startswith("compressed"):
        assert rf.cookie().startswith("."), f"Flask did not compress:\n{rf.describe()}"
    for a, b in ((flask_srv, peer), (peer, flask_srv)):
        r = call(a, "GET", "/", params={"username": name})
        g = call(b, "GET", "/get", sess(r.cookie()))
        assert (g.status, g.text) == (200, echo(b, name)), f"{a.name} -> {b.name}:\n{r.describe()}\n{g.describe()}"


def test_large_session_at_the_browser_limit(flask_srv, peer):
    """The largest session cookie a browser keeps (name=value 4096 bytes; Flask warns above a
    4093-byte header but sends it): equal on both servers, and it crosses both ways."""
    import random
    import string
    rnd = random.Random(3)
    base = "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(6000))  # compresses little

    def size(n):
        h = call(flask_srv, "GET", "/", params={"username": base[:n]}).set_cookie[0]
        return len(h.split(";", 1)[0].encode())

    lo, hi = 1000, 6000  # largest n with name=value <= 4096
    while hi - lo > 1:
        m = (lo + hi) // 2
        lo, hi = (m, hi) if size(m) <= 4096 else (lo, m)
    name = base[:lo]
    rf, rp, same = pair(flask_srv, peer, "GET", "/", params={"username": name})
    assert_same(rf, rp, same, what=f"a {len(rf.set_cookie[0])}-byte Set-Cookie")
    for a, b in ((flask_srv, peer), (peer, flask_srv)):
        c = call(a, "GET", "/", params={"username": name}).cookie()
        assert call(b, "GET", "/get", sess(c)).text == name


def test_session_cookie_header_variants(flask_srv, peer):
    """How the session cookie may arrive: quoted (Werkzeug unquotes it), among other cookies,
    with spaces around '='."""
    v = craft(SECRET, {"username": "alice"})
    for header in (f'session="{v}"', f"a=1; session={v}; b=2", f"session = {v} ;x=y", f"user=\"a\073b\"; session={v}",
                   f"Session={v}", f"session_x={v}", f"xsession={v}"):
        rf, rp, same = pair(flask_srv, peer, "GET", "/get", header)
        assert_same(rf, rp, same, what=f"Cookie: {header[:60]}")


def test_typed_values_cross(flask_srv, peer):
    probe = call(peer, "GET", "/typed/get")
    if probe.status == 404:
        pytest.skip(f"{peer.name} does not implement the optional /typed/* routes (GET /typed/get -> 404)")
    assert (probe.status, probe.body) == (200, b"null"), probe.describe()
    rf, rp, same = pair(flask_srv, peer, "GET", "/typed/set")
    assert_same(rf, rp, same, what="/typed/set (the tagged JSON writer)")
    expected = json.loads(call(flask_srv, "GET", "/typed/get", sess(rf.cookie())).body)
    assert expected and "dict" in expected
    for a, b in ((flask_srv, peer), (peer, flask_srv)):
        c = call(a, "GET", "/typed/set").cookie()
        g = call(b, "GET", "/typed/get", sess(c))
        assert g.status == 200, g.describe()
        assert json.loads(g.body) == expected, f"{a.name} -> {b.name}:\n{g.describe()}\nexpected {expected}"
        # the other server's reading, re-issued (modified), still reads the same in the first
        r = call(b, "GET", "/counter", sess(c))
        assert json.loads(call(a, "GET", "/typed/get", sess(r.cookie())).body) == expected


# ------------------------------------------------------------------------------------------------
# Cookies that must give an empty session
# ------------------------------------------------------------------------------------------------

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def flip(segment: str, i: int) -> str:
    """Changes character i to a different base64url character (not only its unused low bits)."""
    c = segment[i]
    n = B64[(B64.index(c) + 17) % 64] if c in B64 else "A"
    return segment[:i] + n + segment[i + 1:]


def tamper(cookie: str, part: str) -> str:
    payload, ts, sig = cookie.rsplit(".", 2)
    if part == "payload":
        j = 1 if payload.startswith(".") else 0
        payload = payload[:j] + flip(payload[j:], len(payload[j:]) // 2)
    elif part == "timestamp":
        ts = flip(ts, 0)
    elif part == "signature":
        sig = flip(sig, 3)
    elif part == "signature-truncated":
        sig = sig[:-4]
    elif part == "no-signature":
        return f"{payload}.{ts}"
    elif part == "compression-flag":
        payload = payload[1:] if payload.startswith(".") else "." + payload
    return f"{payload}.{ts}.{sig}"


def assert_empty_session_on_both(flask_srv, peer, cookie_value: str, what: str):
    rf, rp, same = pair(flask_srv, peer, "GET", "/get", sess(cookie_value))
    for r in (rf, rp):
        assert (r.status, r.text, r.set_cookie) == (200, "not set", []), \
            f"{what}: expected an empty session (200, 'not set', no Set-Cookie):\n{r.describe()}"
    assert_same(rf, rp, same, what=what)
    # a write after a bad cookie: a fresh cookie with only the new data, equal on both
    rf, rp, same = pair(flask_srv, peer, "GET", "/", sess(cookie_value), params={"username": "fresh"})
    assert_same(rf, rp, same, what=f"{what}, then a write")
    assert decode(SECRET, rf.cookie()) == {"username": "fresh"}


@pytest.mark.parametrize("issuer", ["flask", "peer"])
@pytest.mark.parametrize("part", ["payload", "timestamp", "signature", "signature-truncated", "no-signature",
                                  "compression-flag"])
@pytest.mark.parametrize("size", ["short", "compressed"])
def test_tampered_cookie_is_empty_session(flask_srv, peer, issuer, part, size):
    srv = flask_srv if issuer == "flask" else peer
    name = "mallory" if size == "short" else "m" * 300
    good = call(srv, "GET", "/", params={"username": name}).cookie()
    assert call(flask_srv, "GET", "/get", sess(good)).text == name  # control: untampered is fine
    assert call(peer, "GET", "/get", sess(good)).text == name
    bad = tamper(good, part)
    assert bad != good
    assert_empty_session_on_both(flask_srv, peer, bad, f"{part}-tampered {size} cookie from {srv.name}")


def test_wrong_key_cookies_are_empty_session(flask_srv, peer, other_servers):
    flask_other, peer_other = other_servers
    cookies = {
        "crafted with a third secret": craft(OTHER, {"username": "eve"}),
        "crafted with itsdangerous' default key derivation": URLSafeTimedSerializer(
            SECRET, salt="cookie-session", serializer=TaggedJSONSerializer(),
            signer_kwargs={"digest_method": hashlib.sha1}).dumps({"username": "eve"}),
        "crafted with salt 'cookie-sessions'": URLSafeTimedSerializer(
            SECRET, salt="cookie-sessions", serializer=TaggedJSONSerializer(),
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1}).dumps({"username": "eve"}),
        "issued by Flask with a third secret": call(flask_other, "GET", "/", params={"username": "eve"}).cookie(),
        "issued by the peer with a third secret": call(peer_other, "GET", "/", params={"username": "eve"}).cookie(),
    }
    # control: each third-secret server reads its own cookie
    assert call(peer_other, "GET", "/get", sess(cookies["issued by the peer with a third secret"])).text == "eve"
    assert call(flask_other, "GET", "/get", sess(cookies["issued by Flask with a third secret"])).text == "eve"
    for what, c in cookies.items():
        assert_empty_session_on_both(flask_srv, peer, c, what)


def test_duplicate_session_cookies_valid_first(flask_srv, peer):
    """Two session cookies (e.g. from two paths): the first one is used."""
    good = craft(SECRET, {"username": "first"})
    for second in (craft(SECRET, {"username": "second"}), "garbage.x.y"):
        rf, rp, same = pair(flask_srv, peer, "GET", "/get", f"session={good}; session={second}")
        assert_same(rf, rp, same, what="two session cookies, the first valid")
        assert rf.text == "first"


def test_duplicate_session_cookies_invalid_first(flask_srv, peer):
    """Flask takes the first session cookie even when it is invalid (FORMAT.md section 4)."""
    good = craft(SECRET, {"username": "second"})
    rf, rp, same = pair(flask_srv, peer, "GET", "/get", f"session=garbage.x.y; session={good}")
    assert rf.text == "not set"
    assert_same(rf, rp, same, what="two session cookies, the first invalid")


ODD_TYPED_SESSIONS = [{"n": 2**63 - 1}, {"n": 2**64}, {"n": 2**70}, {"n": -(2**63)}, {"n": 1.5}, {"n": True},
                      {"n": "x"}, {"n": None}, {"n": [1]}, {"username": 5}, {"username": None},
                      {"username": ["a"]}, {"username": True}, {"username": {"a": 1}}, {"_permanent": "yes"}]


@pytest.fixture
def own_peer(workdir):
    """A peer of its own, for tests that may bring it down."""
    s = start_peer(workdir, SECRET, name="peer-own")
    yield s
    s.stop()


def test_validly_signed_odd_values_do_not_crash(flask_srv, own_peer):
    """Sessions that a Flask app could have written with other types (big ints, floats, None...):
    the peer must answer every request and stay up. (Flask itself answers 200 or 500 here; only
    survival is checked, not Flask's Python arithmetic.)"""
    peer = own_peer
    problems = []
    for data in ODD_TYPED_SESSIONS:
        c = craft(SECRET, data)
        for path in ("/counter", "/get", "/", "/delete/"):
            flask_answer = call(flask_srv, "GET", path, sess(c))
            try:
                r = call(peer, "GET", path, sess(c))
                answer = f"{r.status} {r.body[:60]!r}"
            except requests.RequestException as e:
                answer = f"no response ({type(e).__name__})"
            alive = peer.proc.poll() is None
            if answer.startswith("no response") or not alive:
                problems.append(f"GET {path} with a session {data!r}: {peer.name} gave {answer}, "
                                f"process {'alive' if alive else 'exited with ' + str(peer.proc.returncode)}; "
                                f"Flask gave {flask_answer.status} {flask_answer.body[:60]!r}")
                if not alive:
                    crash = [ln for ln in peer.log_tail(400).splitlines() if "runtime failure" in ln or " at /" in ln]
                    problems.append("    " + "\n    ".join(crash[:4]))
                    break
        if peer.proc.poll() is not None:
            break
    assert not problems, "\n".join(problems)


def test_crafted_cookies_control(flask_srv, peer):
    """Cookies crafted with itsdangerous (Flask's exact serializer) are accepted: proves the crafting."""
    now = int(time.time())
    for ts in (now, now - 5, now - DEFAULT_MAX_AGE + 60):
        c = craft(SECRET, {"username": "alice"}, ts)
        for s in (flask_srv, peer):
            r = call(s, "GET", "/get", sess(c))
            assert (r.status, r.text) == (200, "alice"), f"timestamp {ts} (now {now}):\n{r.describe()}"


@pytest.mark.parametrize("offset", [DEFAULT_MAX_AGE + 5, DEFAULT_MAX_AGE + 3600 * 24, 10 * 365 * 86400],
                         ids=["expired-by-5s", "expired-by-1d", "10-years-old"])
def test_expired_cookie_is_empty_session(flask_srv, peer, offset):
    c = craft(SECRET, {"username": "old"}, int(time.time()) - offset)
    assert_empty_session_on_both(flask_srv, peer, c, f"timestamp now-{offset}s (max_age {DEFAULT_MAX_AGE})")


@pytest.mark.parametrize("offset", [60, 3600, 400 * 86400, 2**33], ids=["1min", "1h", "400d", "2^33s"])
def test_future_timestamp_is_empty_session(flask_srv, peer, offset):
    c = craft(SECRET, {"username": "marty"}, int(time.time()) + offset)
    assert_empty_session_on_both(flask_srv, peer, c, f"timestamp now+{offset}s")


def test_garbage_cookies_are_empty_session(flask_srv, peer):
    for c in ["x", "a.b.c", "...", "eyJ1c2VybmFtZSI6ImFsaWNlIn0", "%%%.%%%.%%%", "é.é.é"[:0] + "a" * 5000]:
        assert_empty_session_on_both(flask_srv, peer, c, f"garbage cookie {c[:40]!r}")


def test_short_lifetime_expires(workdir):
    """FLASK_SESSION_LIFETIME=1 on both: after 2.5 s any session cookie is expired (permanent or not)."""
    f = servers.start_flask(workdir, SECRET, lifetime=1, name="flask-1s")
    try:
        p = start_peer(workdir, SECRET, lifetime=1, name="peer-1s")
        try:
            rf, rp, same = pair(f, p, "POST", "/login", data={"username": "brief"})
            assert_same(rf, rp, same, what="permanent login with a 1 s lifetime")
            cookies = [rf.cookie(), rp.cookie(), call(f, "GET", "/", params={"username": "brief"}).cookie(),
                       call(p, "GET", "/", params={"username": "brief"}).cookie()]
            for c in cookies:  # fresh: valid on both
                for s in (f, p):
                    assert call(s, "GET", "/get", sess(c)).text == "brief"
            time.sleep(2.5)
            for c in cookies:
                rf, rp, same = pair(f, p, "GET", "/get", sess(c))
                for r in (rf, rp):
                    assert (r.status, r.text, r.set_cookie) == (200, "not set", []), r.describe()
                assert_same(rf, rp, same)
        finally:
            p.stop()
    finally:
        f.stop()


# ------------------------------------------------------------------------------------------------
# Key rotation (SECRET_KEY_FALLBACKS)
# ------------------------------------------------------------------------------------------------

def test_rotation_flask_reads_peer_cookie_with_fallback(flask_srv, peer, flask_rotated):
    """A cookie the peer signed with SECRET is read by Flask(SECRET_KEY=NEW, fallbacks=[SECRET]),
    and re-signed with NEW when modified."""
    c = call(peer, "GET", "/", params={"username": "rot"}).cookie()
    r = call(flask_rotated, "GET", "/get", sess(c))
    assert (r.text, r.set_cookie) == ("rot", []), r.describe()
    r = call(flask_rotated, "GET", "/counter", sess(c))
    assert decode(NEW, r.cookie()) == {"n": 1, "username": "rot"}
    # the re-signed cookie is no longer valid under SECRET alone
    assert call(peer, "GET", "/get", sess(r.cookie())).text == "not set"


def test_rotation_peer_reads_flask_cookie_with_fallback(flask_srv, peer, flask_rotated, peer_rotated):
    """Flask(SECRET) signed; the peer started with NEW and SECRET as fallback reads it, re-signs with
    NEW exactly as Flask(NEW, fallbacks=[SECRET]) does, and still rejects a third secret."""
    c = call(flask_srv, "GET", "/", params={"username": "rot"}).cookie()
    rf, rp, same = pair(flask_rotated, peer_rotated, "GET", "/get", sess(c))
    assert_same(rf, rp, same, what="read via fallback key")
    assert (rp.text, rp.set_cookie) == ("rot", []), rp.describe()
    rf, rp, same = pair(flask_rotated, peer_rotated, "GET", "/counter", sess(c))
    assert_same(rf, rp, same, what="modified after a fallback-key read")
    assert decode(NEW, rp.cookie()) == {"n": 1, "username": "rot"}
    # permanent + read only: re-issued under the new key
    p = call(flask_srv, "POST", "/login", data={"username": "rotp"}).cookie()
    rf, rp, same = pair(flask_rotated, peer_rotated, "GET", "/get", sess(p))
    assert_same(rf, rp, same, what="permanent session read via fallback key")
    assert rp.text == "rotp" and decode(NEW, rp.cookie())["username"] == "rotp", rp.describe()
    # its own new-key cookie, and a third secret
    assert call(peer_rotated, "GET", "/get", sess(craft(NEW, {"username": "n"}))).text == "n"
    r = call(peer_rotated, "GET", "/get", sess(craft(OTHER, {"username": "eve"})))
    assert (r.status, r.text) == (200, "not set"), r.describe()


def test_rotation_two_fallbacks(workdir):
    """SECRET_KEY_FALLBACKS with two old keys (oldest first): cookies signed by either are read and
    re-signed with the current key, the same on both servers."""
    older = "interop-oldest-secret-1"
    f = servers.start_flask(workdir, NEW, fallbacks=[older, SECRET], name="flask-2fb")
    try:
        p = start_peer(workdir, NEW, fallbacks=[older, SECRET], name="peer-2fb")
        try:
            for key in (older, SECRET, NEW):
                c = craft(key, {"username": f"k-{key[-4:]}"})
                rf, rp, same = pair(f, p, "GET", "/counter", sess(c))
                assert_same(rf, rp, same, what=f"signed with {key}")
                assert decode(NEW, rp.cookie()) == {"n": 1, "username": f"k-{key[-4:]}"}
            c = craft(OTHER, {"username": "eve"})
            rf, rp, same = pair(f, p, "GET", "/get", sess(c))
            assert_same(rf, rp, same)
            assert rp.text == "not set"
        finally:
            p.stop()
    finally:
        f.stop()


# ------------------------------------------------------------------------------------------------
# Plain cookies (Werkzeug dump_cookie / parse_cookie)
# ------------------------------------------------------------------------------------------------

PLAIN_VALUES = {
    "plain": "flask-user-42",
    "empty": "",
    "space": "hello world",
    "semicolon": "a;b",
    "comma": "a,b",
    "dquote": 'say "hi"',
    "backslash": "a\\b",
    "json": '{"a": [1, 2]}',
    "latin": "café",
    "cjk-emoji": "用户 😀",
    "no-quote-specials": "x=y&z!#$%'()*+-./:<=>?@[]^`{|}~",
    "tab-ctrl": "tab\there\x01",
    "del": "del\x7f",
    "all-mixed": ' ;,"\\é 😀 ',
}


@pytest.mark.parametrize("kind", list(PLAIN_VALUES))
def test_plain_cookie_set_and_read_across(flask_srv, peer, kind):
    value = PLAIN_VALUES[kind]
    rf, rp, same = pair(flask_srv, peer, "GET", "/cookie/set", params={"value": value})
    assert_same(rf, rp, same, what="/cookie/set")
    assert len(rf.set_cookie) == 1 and rf.set_cookie[0].startswith("user="), rf.describe()
    assert rf.vary == [], rf.describe()
    for a, b in ((flask_srv, peer), (peer, flask_srv)):
        r = call(a, "GET", "/cookie/set", params={"value": value})
        raw = r.cookie("user")
        g = call(b, "GET", "/cookie/get", f"user={raw}")
        assert (g.status, g.text) == (200, echo(b, value)), \
            f"cookie set by {a.name} ({r.set_cookie[0]!r}) read by {b.name}:\n{g.describe()}"


@pytest.mark.parametrize("max_age", ["0", "60", "-5", str(400 * 86400)])
def test_plain_cookie_max_age(flask_srv, peer, max_age):
    rf, rp, same = pair(flask_srv, peer, "GET", "/cookie/set", params={"value": "v", "max_age": max_age})
    assert_same(rf, rp, same)
    assert f"Max-Age={max_age}; Path=/" in rf.set_cookie[0], rf.describe()


def test_plain_cookie_delete(flask_srv, peer):
    for c in (None, "user=x", "user=x; session=" + craft(SECRET, {"username": "d"})):
        rf, rp, same = pair(flask_srv, peer, "GET", "/cookie/delete", c)
        assert_same(rf, rp, same)
        assert (rf.text, rf.set_cookie, rf.vary) == ("cookie deleted", [DELETE_USER], []), rf.describe()


COOKIE_HEADERS = {
    "absent": "other=1",
    "octal-semicolon": 'user="a\\073b"; b=2',
    "raw-semicolon-in-quotes": 'user="x;y"; b=2',
    "escaped-quote": 'user="say \\"hi\\""; b=1',
    "invalid-octal": 'user="\\400\\8"',
    "unterminated-quote": 'user="abc; b=1',
    "quote-in-middle": 'user=x"y"z; b=1',
    "empty-quotes": 'user=""; b="',
    "no-equals": "user; a=1",
    "empty-name-skipped": "=v; user=1; =",
    "equals-in-value": "user=b=c; d==",
    "whitespace": "user = b  ;\t c=d ;x=1",
    "duplicates-first-wins": "user=1; user=2; b=3",
    "comma-not-separator": "user=1, b=2",
    "trailing-semicolons": "user=1;;; ;b=2;",
    "utf8-octal": 'user="caf\\303\\251 \\347\\224\\250"',
    "invalid-utf8-octal": 'user="bad\\377byte"',
    "case-sensitive-name": "User=upper; user=lower",
    "session-and-user": "session=abc.def.ghi; user=alice",
}


@pytest.mark.parametrize("kind", list(COOKIE_HEADERS))
def test_cookie_header_parsing_same(flask_srv, peer, kind):
    header = COOKIE_HEADERS[kind]
    rf, rp, same = pair(flask_srv, peer, "GET", "/cookie/get", header)
    assert_same(rf, rp, same, what=f"Cookie header parsing ({kind})")


def test_cookie_header_raw_utf8_bytes(flask_srv, peer):
    """Raw UTF-8 in a Cookie header: Werkzeug reads it as latin-1 (mojibake, FORMAT.md section 6);
    SessionKit deliberately reads it as the UTF-8 it is (a documented difference)."""
    header = "user=用户; x=é".encode("utf-8")
    rf = call(flask_srv, "GET", "/cookie/get", header)
    rp = call(peer, "GET", "/cookie/get", header)
    assert rf.text == "用户".encode("utf-8").decode("latin-1")
    expected = "用户" if servers.peer_kind() in ("demo", "vapor") else rf.text
    assert rp.status == 200 and rp.text == expected, rp.describe()


@pytest.mark.parametrize("query", ["value=a+b", "value=a%20b", "value=a%2Bb", "value=%E7%94%A8+x"])
def test_query_plus_is_space(flask_srv, peer, query):
    """Werkzeug decodes query strings as form data: '+' is a space, '%2B' a plus (checked on
    /cookie/set, which does not depend on the session codec)."""
    rf, rp, same = pair(flask_srv, peer, "GET", "/cookie/set", params=query)
    assert_same(rf, rp, same, what="query decoding")
    expected = urllib.parse.parse_qs(query)["value"][0]
    for a, b in ((flask_srv, peer), (peer, flask_srv)):
        r = call(a, "GET", "/cookie/set", params=query)
        g = call(b, "GET", "/cookie/get", f"user={r.cookie('user')}")
        assert g.text == echo(b, expected), f"/cookie/set?{query} on {a.name}, /cookie/get on {b.name}:\n{r.describe()}\n{g.describe()}"


# ------------------------------------------------------------------------------------------------
# The demo's HTML pages in Flask-compatible mode write sessions a Flask app can read
# ------------------------------------------------------------------------------------------------

def demo_only(pages: bool = False):
    """Skips a test of the demo's own behaviour against Flask; `pages`: it needs the /app pages."""
    if servers.peer_kind() == "flask":
        pytest.skip("the /app pages and native formats exist only in the demo (SESSIONKIT_INTEROP_PEER=flask)")
    if pages and servers.peer_kind() == "vapor":
        pytest.skip("sessionkit-vapor-demo serves the tutorial routes only; the /app pages (login, flash, cart) "
                    "are sessionkit-demo's (Hummingbird), checked in the SESSIONKIT_INTEROP_PEER=demo run")


def test_demo_pages_sessions_are_flask_sessions(flask_srv, peer):
    """Login, flash and cart through the demo's /app pages: the cookie decodes with Flask's own
    serializer, flashes in Flask's format (session['_flashes'] = [(category, message)]), and Flask's
    /get reads the user."""
    demo_only(pages=True)
    r = call(peer, "POST", "/app/login", data={"username": "zoë"})
    assert r.status == 303 and len(r.set_cookie) == 1 and "Expires=" in r.set_cookie[0], r.describe()
    data = decode(SECRET, r.cookie())
    assert data.get("username") == "zoë" and data.get("_permanent") is True, data
    assert data.get("_flashes") == [("success", "Welcome, zoë! You are logged in.")], data
    c = sess(r.cookie())
    g = call(flask_srv, "GET", "/get", c)
    assert (g.status, g.text) == (200, "zoë"), g.describe()
    for item in ("apple", "apple", "tea"):
        r = call(peer, "POST", "/app/cart/add", c, data={"item": item})
        assert r.status == 303 and r.cookie(), r.describe()
        c = sess(r.cookie())
    data = decode(SECRET, c.split("=", 1)[1])
    assert data.get("username") == "zoë", data
    assert {k: v for k, v in data.items() if k not in ("_flashes", "visits")} == \
        {"_permanent": True, "_user_id": "zoë", "username": "zoë", "cart": {"apple": 2, "tea": 1}}, data
    # Flask continues the session (and refreshes the permanent cookie); the demo reads Flask's cookie
    g = call(flask_srv, "GET", "/counter", c)
    assert g.text == "1" and "Expires=" in g.set_cookie[0], g.describe()
    page = call(peer, "GET", "/app/cart", sess(g.cookie()))
    assert page.status == 200 and "zoë" in page.text, page.describe()
    assert re.search(r'<td class="name">apple</td><td class="quantity">2</td>', page.text), page.text


# ------------------------------------------------------------------------------------------------
# The demo's own formats are not Flask's
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["encrypted", "signed"])
def test_native_formats_are_not_flask_readable(workdir, flask_srv, fmt):
    demo_only()
    d = servers.start_demo(workdir, NATIVE_SECRET, flask_compat=False, fmt=fmt, name=f"peer-{fmt}",
                           binary=servers.peer_bin())
    try:
        r = call(d, "GET", "/", params={"username": "native"})
        c = r.cookie() or next((h.split(";")[0].split("=", 1)[1] for h in r.set_cookie), None)
        assert c, f"no cookie from the {fmt} demo:\n{r.describe()}"
        name = r.set_cookie[0].split("=", 1)[0]
        assert call(d, "GET", "/get", f"{name}={c}").text == "native"
        g = call(flask_srv, "GET", "/get", f"{name}={c}")
        assert (g.status, g.text) == (200, "not set"), g.describe()
        # and a Flask cookie means nothing to the native demo
        fc = call(flask_srv, "GET", "/", params={"username": "flasky"}).cookie()
        g = call(d, "GET", "/get", sess(fc))
        assert (g.status, g.text) == (200, "not set"), g.describe()
    finally:
        d.stop()
