"""A real browser against the demo web app: headless Chromium (Debian's, driven by selenium) logs in
through the form, fills a cart, reloads, logs out; a second browser profile sees none of it.

The demo runs with its default cookie format (encrypted) and a fixed secret on a free loopback
port. Environment: SESSIONKIT_DEMO_BIN (see Tests/Interop/servers.py).
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Interop"))
import servers  # noqa: E402

os.environ.pop("SE_CHROMEDRIVER", None)  # it silently overrides the driver path
os.environ["SE_OFFLINE"] = "true"        # never let Selenium Manager go online

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (NoSuchElementException,  # noqa: E402
                                        TimeoutException, WebDriverException)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
SECRET = "browser-test-secret-0123456789-abcdefghij"  # native formats need >= 32 bytes


@pytest.fixture(scope="module")
def tmp_root():
    root = Path(tempfile.mkdtemp(prefix="sessionkit-browser-"))
    yield root
    shutil.rmtree(root / "profiles", ignore_errors=True)  # keep logs and screenshots


@pytest.fixture(scope="module")
def demo(tmp_root):
    s = servers.start_demo(tmp_root, SECRET, flask_compat=False, name="demo-encrypted")
    yield s
    s.stop()


class Browser:
    """One headless Chromium with its own profile directory."""

    def __init__(self, root: Path, name: str, base: str):
        for path in (CHROMEDRIVER, CHROMIUM):
            if not os.access(path, os.X_OK):
                pytest.fail(f"{path} is missing: run scripts/interop-setup (apt-get install chromium chromium-driver)")
        self.base = base
        home = root / "profiles" / name
        for sub in ("tmp", "config", "cache", "profile"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, TMPDIR=str(home / "tmp"), XDG_CONFIG_HOME=str(home / "config"),
                   XDG_CACHE_HOME=str(home / "cache"))
        env.pop("SE_CHROMEDRIVER", None)
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,760",
                  f"--user-data-dir={home / 'profile'}", "--no-first-run", "--disable-extensions"):
            opts.add_argument(a)
        service = Service(executable_path=CHROMEDRIVER, env=env, log_output=str(home / "chromedriver.log"))
        self.driver = webdriver.Chrome(service=service, options=opts)
        self.driver.set_page_load_timeout(30)
        self.marker = 0

    def open(self, path: str):
        self.driver.get(self.base + path)

    def wait(self, cond, what: str, timeout: float = 10):
        try:
            return WebDriverWait(self.driver, timeout, ignored_exceptions=(WebDriverException,)) \
                .until(lambda d: cond())
        except Exception as e:
            raise AssertionError(f"waiting for {what}: {e!r}; page:\n{self.driver.page_source[:3000]}") from None

    def click_and_load(self, element):
        """Clicks a submit button and waits until the next page has replaced this one."""
        # A marker on this document's window: the next page has none. (Selenium's staleness_of
        # asks the old element and, in Chromium 156, sometimes gets "Node with given id does not
        # belong to the document" instead of a stale-element error while the page is replaced.)
        self.marker += 1
        self.driver.execute_script("window.__sessionkitPage = arguments[0];", self.marker)
        element.click()

        def next_page_loaded(driver):
            try:
                return driver.execute_script(
                    "return window.__sessionkitPage === undefined && document.readyState === 'complete';")
            except WebDriverException:
                return False  # between documents: ask again
        try:
            WebDriverWait(self.driver, 15).until(next_page_loaded)
        except TimeoutException:
            raise AssertionError(f"the page did not change after the click; page:\n"
                                 f"{self.driver.page_source[:3000]}") from None

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def exists(self, css: str) -> bool:
        return bool(self.all(css))

    def text(self, css: str) -> str:
        return self.find(css).text.strip()

    def flashes(self) -> list[str]:
        return [e.text.strip() for e in self.all("div.flash")]

    def cart(self) -> dict[str, str]:
        return {r.find_element(By.CSS_SELECTOR, "td.name").text.strip():
                r.find_element(By.CSS_SELECTOR, "td.quantity").text.strip()
                for r in self.all("#cart tr.item")}

    def path(self) -> str:
        url = self.driver.current_url
        return url[len(self.base):] if url.startswith(self.base) else url

    def login(self, name: str):
        self.open("/app/login")
        self.find("#username").clear()
        self.find("#username").send_keys(name)
        self.click_and_load(self.find("#submit"))
        self.wait(lambda: self.path() == "/app" and self.exists("div.flash"), "the page after login")

    def add(self, item: str):
        Select(self.find("select#item")).select_by_value(item)
        self.click_and_load(self.find("#add"))
        self.wait(lambda: self.path() == "/app/cart" and f"Added one {item}." in self.flashes(),
                  f"the flash after adding {item}")

    def quit(self):
        self.driver.quit()


@pytest.fixture(scope="module")
def browser(tmp_root, demo):
    b = Browser(tmp_root, "first", demo.base)
    yield b
    b.quit()


@pytest.fixture
def second_browser(tmp_root, demo):
    b = Browser(tmp_root, "second", demo.base)
    yield b
    b.quit()


# The tests below run in file order and share one browser (one user's visit).

def test_home_logged_out(browser):
    browser.open("/app")
    assert browser.exists("#login-link"), browser.driver.page_source
    assert not browser.exists("#who")
    assert "not logged in" in browser.text("#greeting")
    assert browser.text("#cart-count") == "0"
    first = int(browser.text("#visits"))
    browser.driver.refresh()
    assert int(browser.text("#visits")) == first + 1, "the visit counter (kept in the session) did not count"


def test_login_through_the_form(browser):
    browser.login("alice")
    assert browser.flashes() == ["Welcome, alice! You are logged in."]
    assert browser.text("#who") == "alice"
    assert browser.text("#greeting") == "Hello, alice!"
    assert browser.exists("#logout")
    browser.driver.refresh()
    assert browser.flashes() == [], "a flash message must show once"
    assert browser.text("#who") == "alice"


def test_cart_add_and_keep(browser, tmp_root, capsys):
    browser.open("/app/cart")
    assert browser.exists("#empty") and browser.cart() == {}
    browser.add("apple")
    assert browser.cart() == {"apple": "1"}
    browser.add("apple")
    browser.add("tea")
    assert browser.flashes() == ["Added one tea."]
    assert browser.cart() == {"apple": "2", "tea": "1"}
    shot = tmp_root / "cart.png"
    assert browser.driver.save_screenshot(str(shot)) and shot.stat().st_size > 1000
    with capsys.disabled():
        print(f"\n[browser] screenshot of the cart page: {shot}")
    browser.driver.refresh()
    assert browser.cart() == {"apple": "2", "tea": "1"}
    assert browser.flashes() == []
    browser.open("/app")
    assert browser.text("#cart-count") == "3"
    assert browser.text("#who") == "alice"


def test_cart_remove_one(browser, demo):
    browser.open("/app/cart")
    assert browser.text("#who") == "alice", "still logged in from the previous test"
    assert browser.cart() == {"apple": "2", "tea": "1"}, "the cart kept from the previous test"
    browser.add("coffee")
    assert browser.text("#who") == "alice"
    assert browser.cart() == {"apple": "2", "coffee": "1", "tea": "1"}, demo.log_path.read_text(errors="replace")[-4000:]
    row = next(r for r in browser.all("#cart tr.item") if r.find_element(By.CSS_SELECTOR, "td.name").text == "coffee")
    browser.click_and_load(row.find_element(By.CSS_SELECTOR, "button"))
    browser.wait(lambda: "coffee" not in browser.cart(), "coffee to leave the cart")
    assert browser.cart() == {"apple": "2", "tea": "1"}


def test_login_rejects_an_empty_name(second_browser):
    b = second_browser
    b.open("/app/login")
    # the input is `required`; drop that to let the server see an empty (blank) name
    b.driver.execute_script("document.getElementById('username').removeAttribute('required')")
    b.find("#username").send_keys("   ")
    b.click_and_load(b.find("#submit"))
    b.wait(lambda: b.path() == "/app/login" and b.exists("div.flash"), "the login page with an error")
    assert b.flashes() == ["Please enter a username (at most 64 characters)."]
    assert not b.exists("#who")


def test_login_session_stays_persistent(browser, demo, tmp_root):
    """The login makes the session permanent (Flask's session.permanent): its cookie must keep an
    expiry date when later requests re-issue it, or the browser drops the login when it closes."""
    b = Browser(tmp_root, "persistent", demo.base)
    try:
        b.login("pat")            # POST /app/login, then GET /app (counts a visit: re-issues the cookie)
        b.open("/app/cart")
        b.add("pear")
        cookie = {c["name"]: c for c in b.driver.get_cookies()}.get("session")
        assert cookie, b.driver.get_cookies()
        assert "expiry" in cookie and cookie["expiry"] > time.time() + 3600, (
            f"the logged-in (permanent) session's cookie has no expiry in the browser: {cookie}")
    finally:
        b.quit()


def test_permanent_session_reissue_keeps_expires_http(demo):
    """The same as the browser check above, at the HTTP level, with the exact headers."""
    r = requests.post(demo.url("/app/login"), data={"username": "pat"}, allow_redirects=False, timeout=10)
    login_headers = r.raw.headers.getlist("Set-Cookie")
    assert r.status_code == 303 and len(login_headers) == 1 and "Expires=" in login_headers[0], login_headers
    value = login_headers[0].split(";", 1)[0]
    r2 = requests.get(demo.url("/app"), headers={"Cookie": value}, timeout=10)
    again = r2.raw.headers.getlist("Set-Cookie")
    assert r2.status_code == 200 and len(again) == 1, again
    strip = lambda h: re.sub(r"^session=[^;]*", "session=<value>", h)  # noqa: E731
    assert "Expires=" in again[0], (
        "POST /app/login set a permanent cookie, the next GET /app re-issued it without Expires:\n"
        f"  POST /app/login -> {strip(login_headers[0])}\n  GET /app        -> {strip(again[0])}")


def test_session_cookie_is_httponly(browser, capsys):
    browser.open("/app")
    cookies = browser.driver.get_cookies()
    with capsys.disabled():
        print("\n[browser] cookies: " + "; ".join(
            f"{c['name']} (httpOnly={c.get('httpOnly')}, secure={c.get('secure')}, sameSite={c.get('sameSite')}, "
            f"path={c.get('path')}, expiry={'yes' if 'expiry' in c else 'session'}, {len(c['value'])} chars)"
            for c in cookies))
    assert cookies, "no cookies in the browser"
    http_only = [c for c in cookies if c.get("httpOnly")]
    assert http_only, f"no HttpOnly cookie: {cookies}"
    visible = browser.driver.execute_script("return document.cookie")
    for c in http_only:
        assert c["name"] + "=" not in visible, f"HttpOnly cookie {c['name']} is visible in document.cookie: {visible!r}"
        assert c["value"] not in visible
    # no session data in clear text in any cookie value
    for c in cookies:
        assert "alice" not in c["value"] and "apple" not in c["value"], c


def test_second_profile_is_isolated(browser, second_browser):
    second_browser.open("/app/cart")
    assert second_browser.exists("#empty") and second_browser.cart() == {}
    assert not second_browser.exists("#who") and second_browser.exists("#login-link")
    second_browser.login("bob")
    assert second_browser.flashes() == ["Welcome, bob! You are logged in."]
    second_browser.open("/app/cart")
    second_browser.add("bread")
    assert second_browser.cart() == {"bread": "1"}
    # the first user's cart is untouched
    browser.open("/app/cart")
    assert browser.cart() == {"apple": "2", "tea": "1"}
    assert browser.text("#who") == "alice"


def test_flask_compat_browser_session_read_by_flask(tmp_root):
    """The demo in Flask-compatible mode: what a real browser holds after login and cart is a Flask
    session cookie that the Flask reference app (same secret) reads, and the reverse."""
    secret = "browser-flask-compat-secret"
    demo = servers.start_demo(tmp_root, secret, flask_compat=True, name="demo-flask-compat")
    flask = servers.start_flask(tmp_root, secret, name="flask")
    b = None
    try:
        b = Browser(tmp_root, "flask-compat", demo.base)
        b.login("carla")
        assert b.flashes() == ["Welcome, carla! You are logged in."]
        b.open("/app/cart")
        b.add("bread")
        cookie = {c["name"]: c for c in b.driver.get_cookies()}["session"]
        assert cookie["httpOnly"] and "expiry" in cookie, cookie
        r = requests.get(flask.url("/get"), headers={"Cookie": f"session={cookie['value']}"}, timeout=10)
        assert (r.status_code, r.text) == (200, "carla")
        # Flask writes to the session (POST /login as someone else); the browser takes Flask's cookie
        r = requests.post(flask.url("/login"), data={"username": "from-flask"},
                          headers={"Cookie": f"session={cookie['value']}"}, timeout=10)
        value = r.raw.headers.getlist("Set-Cookie")[0].split(";", 1)[0].split("=", 1)[1]
        b.driver.delete_cookie("session")
        b.driver.add_cookie({"name": "session", "value": value, "path": "/", "httpOnly": True})
        b.open("/app/cart")
        assert b.text("#who") == "from-flask"
        assert b.cart() == {"bread": "1"}  # the cart written by the demo survived Flask's rewrite
    finally:
        if b:
            b.quit()
        flask.stop()
        demo.stop()


def test_logout(browser):
    browser.open("/app")
    browser.click_and_load(browser.find("#logout"))
    browser.wait(lambda: browser.path() == "/app" and browser.exists("div.flash"), "the page after logout")
    assert browser.flashes() == ["Goodbye, alice. You are logged out."]
    assert not browser.exists("#who") and browser.exists("#login-link")
    assert browser.text("#cart-count") == "0"
    browser.open("/app/cart")
    assert browser.exists("#empty") and browser.cart() == {}
    with pytest.raises(NoSuchElementException):
        browser.find("#logout")
