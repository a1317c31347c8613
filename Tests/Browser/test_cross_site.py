"""Cross-site request forgery in a real browser: a page on a second origin (a second port of
127.0.0.1, served by Python's http.server) makes headless Chromium submit forms to the demo while a
user is signed in there. The browser sends the demo's cookie with them (the two origins are the
same site, so SameSite=Lax does not hold it back): only the demo's own check can stop them. Each
attack must be refused (403) and leave the user's session as it was; the test fails if one works.

Environment: SESSIONKIT_DEMO_BIN (see Tests/Interop/servers.py).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Interop"))
import servers  # noqa: E402
from test_demo_browser import SECRET, Browser  # noqa: E402

# name -> (method, path on the demo, form fields); each is one attacker page
ATTACKS = {
    "cart-add": ("post", "/app/cart/add", {"item": "bread"}),
    "cart-remove": ("post", "/app/cart/remove", {"item": "apple"}),
    "revoke-others": ("post", "/app/sessions/revoke-others", {}),
    "tutorial-login": ("post", "/login", {"username": "mallory"}),
    "app-login": ("post", "/app/login", {"username": "mallory"}),
    "clear": ("get", "/clear", {}),
    "set-username": ("get", "/", {"username": "mallory"}),
    "cookie-set": ("get", "/cookie/set", {"value": "mallory"}),
    "logout": ("post", "/app/logout", {}),  # last: if it worked, nothing after it would tell
}


def attacker_page(demo_base: str, method: str, path: str, fields: dict[str, str]) -> str:
    inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
    return (f'<!doctype html><html><body onload="document.forms[0].submit()">'
            f'<h1>Win a prize</h1><form method="{method}" action="{demo_base}{path}">{inputs}</form>'
            f'</body></html>')


@pytest.fixture(scope="module")
def root():
    r = Path(tempfile.mkdtemp(prefix="sessionkit-cross-site-"))
    yield r
    shutil.rmtree(r / "profiles", ignore_errors=True)


@pytest.fixture(scope="module")
def demo(root):
    s = servers.start_demo(root, SECRET, flask_compat=False, extra=["--store", "memory"], name="demo-cross-site")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def attacker(root, demo):
    """The second origin: http://127.0.0.1:<another port>/<attack>.html."""
    site = root / "attacker"
    site.mkdir()
    for name, (method, path, fields) in ATTACKS.items():
        (site / f"{name}.html").write_text(attacker_page(demo.base, method, path, fields))
    port = servers.free_port()
    log = open(root / "attacker.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site)],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(base + "/logout.html", timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"the attacker's server did not start: {(root / 'attacker.log').read_text()}")
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def state(b: Browser) -> tuple[str | None, dict[str, str]]:
    b.open("/app/cart")
    who = b.text("#who") if b.exists("#who") else None
    return who, b.cart()


def test_pages_on_another_origin_cannot_change_the_session(root, demo, attacker):
    b = Browser(root, "cross-site", demo.base)
    try:
        b.login("victim")
        b.open("/app/cart")
        b.add("apple")
        b.add("apple")
        before = state(b)
        assert before == ("victim", {"apple": "2"}), before
        cookies_before = {c["name"]: c["value"] for c in b.driver.get_cookies()}
        problems = []
        for name, (method, path, _) in ATTACKS.items():
            b.driver.get(f"{attacker}/{name}.html")
            # the form submits itself: wait until the browser has left the attacker's page
            b.wait(lambda: b.driver.current_url.startswith(demo.base)
                   and b.driver.execute_script("return document.readyState") == "complete",
                   f"the {name} attack page to submit its form")
            answer = b.driver.find_element("css selector", "body").text
            if "403 Forbidden" not in answer:
                problems.append(f"{name}: {method.upper()} {path} from {attacker} was not refused; the page says {answer[:200]!r}")
            after = state(b)
            if after != before:
                problems.append(f"{name}: {method.upper()} {path} from {attacker} changed the session: {before} -> {after}")
                before = after
        cookies_after = {c["name"]: c["value"] for c in b.driver.get_cookies()}
        if "user" in cookies_after:
            problems.append(f"/cookie/set from {attacker} set a cookie: {cookies_after['user']!r}")
        if cookies_after.get("session") != cookies_before.get("session"):
            problems.append("the session cookie changed")
        assert not problems, "cross-site requests acted for the signed-in user:\n" + "\n".join(problems)

        # control: the same forms on the demo's own pages work (the test can tell a refusal from a
        # broken form)
        b.open("/app/cart")
        b.add("bread")
        assert state(b) == ("victim", {"apple": "2", "bread": "1"})
        b.click_and_load(b.find("#logout"))
        assert state(b) == (None, {})
    finally:
        b.quit()


def test_security_headers_reach_the_browser(root, demo):
    r = requests.get(demo.url("/app"), timeout=10)
    csp = r.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, csp
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.headers.get("Referrer-Policy") == "same-origin"
    # the page renders styled under its own policy: the style sheet loads
    css = requests.get(demo.url("/app/demo.css"), timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css"), css.headers
