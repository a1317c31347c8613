#!/usr/bin/env python3
"""Writes the seed corpora of Fuzz/Corpus/<target>/ (checked in; run again after a format change).

Seeds come from the Flask reference vectors (Tests/SessionKitTests/Fixtures/flask-vectors.json,
a copy of what the real Flask wrote), from the test suite's examples, and from our own formats built
here with the fuzz targets' fixed test keys (which sign nothing real)."""
import base64, hashlib, hmac, json, os, struct, sys, zlib

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(ROOT))
VECTORS = json.load(open(os.path.join(REPO, "Tests/SessionKitTests/Fixtures/flask-vectors.json")))
TEST_KEY = b"sessionkit-fuzz-test-key-not-a-secret-0123456789"
NOW = 1_700_000_000


def write(target, seeds):
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    for old in os.listdir(folder):
        os.remove(os.path.join(folder, old))
    unique = []
    for seed in seeds:
        data = seed if isinstance(seed, bytes) else seed.encode()
        if data not in unique:
            unique.append(data)
    for data in unique:
        name = hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
    print(f"{target}: {len(unique)} seeds")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def payload(values, issued=NOW - 10, expires=NOW + 3600, first=None):
    out = struct.pack(">qq", issued, expires) + varint(len(values))
    for key, value in values.items():
        out += varint(len(key.encode())) + key.encode() + varint(len(value.encode())) + value.encode()
    if first is not None:
        out += struct.pack(">q", first)
    return out


def hkdf(secret, info):
    prk = hmac.new(b"sessionkit", secret, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


SESSIONS = [
    {},
    {"user": '"alice"'},
    {"_user_id": '"42"', "cart": '[1,2,3]', "n": "7"},
    {"k": '{"a":{"b":[true,false,null,1.5e3]}}', "é": '"\\u00e9"'},
]
PAYLOADS = [payload(s) for s in SESSIONS] + [payload({"x": "1"}, first=NOW - 100)]
flask = VECTORS["session_vectors"]
parse_cookie = VECTORS["parse_cookie_vectors"]
responses = VECTORS["flask_response_vectors"]

# The Cookie header parser.
write("FuzzRequestCookies", [v.get("header") or v.get("header_utf8") or v.get("joined") or "" for v in parse_cookie] + [
    "session=abc; theme=dark", "a=1;a=2; b=\"x;y\"", 'json={"a":1,"b":[1,2]}; c=', "k=\"\\303\\251\\\"\"",
    "\ta = b ; ;=c; d", "=x; y=; ;", "n=v\n", "a=b\nc=d", "%E9=%20; q=\"unclosed",
])

# The Set-Cookie parser.
set_cookies = [h for r in responses for h in r.get("set_cookie") or []]
set_cookies += [v["header"] for v in VECTORS["dump_cookie_vectors"] if v.get("header")]
set_cookies += [h for v in VECTORS["delete_cookie_vectors"] for h in v["headers"]]
write("FuzzSetCookie", set_cookies + [
    "id=abc; path=/; SECURE; samesite=lax; Max-Age=60; Foo=bar",
    "a=b; Domain=.Example.COM; HttpOnly; Partitioned; Priority=High; SameSite=None",
    "a=b; Max-Age=-5; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Path=",
    "noequals", "=v", "a=\"quoted\"; Max-Age=99999999999999999999999",
])

# The cookie-date parser.
write("FuzzCookieDate", [
    "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
    "06 Nov 1994 08:49:37", "1994 Nov 06 08:49:37", "Sun,06-Nov-1994 08:49:37+0000",
    "Thu, 31 Dec 69 23:59:59 GMT", "Tue, 29 Feb 2000 00:00:00 GMT", "Sat, 01 Jan 1601 00:00:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 30 Feb 2023 00:00:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT",
])

# The session ID parser.
write("FuzzSessionID", [
    "A" * 43, "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE", "_" * 42 + "w", "_" * 43, "Z" * 42 + "0", "a" * 44,
])

# The stores' session record (SessionRecordCoding): version 1, values, optional trailing strings.
def record(values, trailer=()):
    out = b"\x01" + varint(len(values))
    for key, value in values.items():
        out += varint(len(key.encode())) + key.encode() + varint(len(value.encode())) + value.encode()
    out += varint(len(trailer))
    for string in trailer:
        out += b"\x00" if string is None else varint(len(string.encode()) + 1) + string.encode()
    return out
write("FuzzSessionRecord", [record(s) for s in SESSIONS] + [
    record({"user": '"bob"'}, ["Mozilla/5.0", None, "127.0.0.1"]), b"\x01\x00", b"\x01\x01\x01k\x01" + b"1",
])

# The Flask tagged JSON: what the vectors' Flask wrote, and Python's special values.
write("FuzzFlaskJSON", [v["tagged_json"] for v in flask if v.get("tagged_json")] + [
    '{" t":["a",1]}', '{" b":"aGVsbG8="}', '{" u":"12345678-1234-5678-1234-567812345678"}',
    '{" d":"Tue, 14 Nov 2023 22:13:20 GMT"}', '{" m":"<b>x</b>"}', '{" di":{"a":1}}',
    '[NaN,Infinity,-Infinity,1e999,-0.0,12345678901234567890123]', '"\\ud800\\udc00\\u00e9"',
])

# The Flask codec: mode byte 0 (a cookie as sent), 1 (JSON, signed here), 2 (zlib as sent, signed),
# 3 (JSON, compressed and signed here).
flask_seeds = []
for v in flask:
    if v.get("cookie"):
        flask_seeds.append(b"\x00" + v["cookie"].encode())
    if v.get("tagged_json"):
        flask_seeds.append(b"\x01" + v["tagged_json"].encode())
        flask_seeds.append(b"\x03" + v["tagged_json"].encode())
        flask_seeds.append(b"\x02" + zlib.compress(v["tagged_json"].encode()))
write("FuzzFlaskCodec", flask_seeds)

# The signed codec: mode byte 0 (a cookie as sent, signed here with the target's key) or 1 (a
# payload, signed by the target).
signed_key = hkdf(TEST_KEY, b"sessionkit/signed/v1")
key_id = hmac.new(signed_key, b"key-id", hashlib.sha256).digest()[0]
aad = b"sessionkit\x00\x81session\x00session"
signed_seeds = []
for p in PAYLOADS:
    message = bytes([0x81, key_id]) + p
    signed_seeds.append(b"\x00" + b64(message + hmac.new(signed_key, aad + message, hashlib.sha256).digest()))
    signed_seeds.append(b"\x01" + p)
write("FuzzSignedCodec", signed_seeds)

# The encrypted codec: mode byte 0 (a cookie as sent, sealed here), 1 (a payload sealed by the
# target with AES-GCM) or 3 (with ChaCha20-Poly1305).
try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:
    AESGCM = None
encrypted_key = hkdf(TEST_KEY, b"sessionkit/encrypted/v1")
encrypted_id = hmac.new(encrypted_key, b"key-id", hashlib.sha256).digest()[0]
encrypted_seeds = []
for p in PAYLOADS:
    encrypted_seeds += [b"\x01" + p, b"\x03" + p]
    if AESGCM:
        nonce = bytes(range(12))
        aad = b"sessionkit\x00\x01session\x00session"
        sealed = AESGCM(encrypted_key).encrypt(nonce, p, aad)
        encrypted_seeds.append(b"\x00" + b64(bytes([0x01, encrypted_id]) + nonce + sealed))
write("FuzzEncryptedCodec", encrypted_seeds)

# RESP replies; the first byte sets the piece length of the second, split, parse.
write("FuzzRESP", [
    b"\x00+OK\r\n", b"\x03-ERR wrong type\r\n:42\r\n:-7\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n",
    b"\x01*3\r\n*2\r\n$3\r\nabc\r\n*0\r\n*-1\r\n*2\r\n:1\r\n*1\r\n$-1\r\n+OK\r\n-ERR x\r\n",
    b"\x07*4\r\n+OK\r\n$12\r\nhello\r\nworld\r\n*2\r\n:-9223372036854775807\r\n$-1\r\n-NOSCRIPT missing\r\n:5\r\n",
    b"\x02$3\r\nabcXY", b"\x05:99999999999999999999\r\n", b"\x00*1\r\n*1\r\n*1\r\n:1\r\n",
])
