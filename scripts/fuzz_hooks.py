"""schemathesis hooks for scripts/fuzz: authentication and the "no secret in any response" check.

Loaded through SCHEMATHESIS_HOOKS=fuzz_hooks (scripts/ on PYTHONPATH). Reads from the environment:
  FUZZ_BASE_URL        http://127.0.0.1:PORT of the service under test
  FUZZ_ADMIN_PASSWORD  the initial admin's password (data/initial-admin-password)
  FUZZ_MASTER_KEY_FILE the service's master key file
"""

import base64
import json
import os
import re
import threading

import requests
import schemathesis

BASE_URL = os.environ["FUZZ_BASE_URL"]
ADMIN_PASSWORD = os.environ["FUZZ_ADMIN_PASSWORD"]
with open(os.environ["FUZZ_MASTER_KEY_FILE"], "rb") as handle:
    MASTER_KEY_TEXT = handle.read().strip()

# Every bearer token minted for the run: none may appear in a response except the one creating it.
_minted = set()
_lock = threading.Lock()
_session = None


def _session_cookie():
    """Signs in once as admin (cookie + CSRF token). The fuzzer never sees this session, so the requests it
    generates (DELETE /api/tokens/{id}, POST /api/auth/logout with a bearer token) cannot end it."""
    global _session
    if _session is None:
        http = requests.Session()
        reply = http.post(f"{BASE_URL}/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}, timeout=30)
        reply.raise_for_status()
        _session = (http, reply.json()["csrf_token"])
    return _session


@schemathesis.auth(refresh_interval=600)
class MintedBearerToken:
    """A fresh `pw_…` token whenever the current one stops working (schemathesis refetches on 401).

    The fuzzer may well revoke its own token (DELETE /api/tokens/{id} with a small id): a new one is minted
    through the admin's cookie session instead of excluding that operation."""

    def get(self, case, context):
        http, csrf = _session_cookie()
        reply = http.post(
            f"{BASE_URL}/api/tokens", json={"name": "fuzz"}, headers={"X-CSRF-Token": csrf}, timeout=30
        )
        reply.raise_for_status()
        token = reply.json()["token"]
        with _lock:
            _minted.add(token)
        return token

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


PEM_MARKERS = ("-----BEGIN", "PRIVATE KEY-----", "openssh-key-v1", "b3BlbnNzaC1rZXktdjE")
SECRET_FIELDS = re.compile(r"^(password|passphrase|token|private_key|secret)$")


def _secret_inputs(value, field=None, found=None):
    """Values of secret-named fields in the request body (nested), with the other strings of the body."""
    if found is None:
        found = ([], [])
    if isinstance(value, dict):
        for key, child in value.items():
            _secret_inputs(child, key, found)
    elif isinstance(value, list):
        for child in value:
            _secret_inputs(child, field, found)
    elif isinstance(value, str):
        (found[0] if field and SECRET_FIELDS.match(str(field)) else found[1]).append(value)
    return found


@schemathesis.check
def no_secret_in_response(ctx, response, case):
    """No response leaks a secret (docs/API.md "Security notes"): the master key, the admin password, an
    API token other than in the response creating it, private-key material other than from the explicit
    export endpoint, or a password/passphrase/token/private key the request itself sent."""
    body = response.content or b""
    text = body.decode("utf-8", errors="replace")
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    everything = text + "\n" + headers
    path = case.operation.path
    method = case.operation.method.upper()

    if MASTER_KEY_TEXT and MASTER_KEY_TEXT.decode(errors="replace") in everything:
        raise AssertionError("the master key appears in the response")
    try:
        raw_key = base64.b64decode(MASTER_KEY_TEXT, validate=True)
        if len(raw_key) == 32 and raw_key in body:
            raise AssertionError("the raw master key appears in the response")
    except ValueError:
        pass
    if ADMIN_PASSWORD in everything:
        raise AssertionError("the admin password appears in the response")

    creates_token = method == "POST" and path == "/api/tokens" and response.status_code == 201
    created = None
    if creates_token:
        try:
            created = json.loads(text).get("token")
        except ValueError:
            created = None
    with _lock:
        minted = set(_minted)
    for token in minted:
        if token != created and token in everything:
            raise AssertionError("an API token appears in a response other than the one creating it")
    body_value = case.body if isinstance(case.body, (dict, list)) else None
    secrets, others = _secret_inputs(body_value) if body_value is not None else ([], [])
    if not creates_token:
        for match in re.findall(r"pw_[A-Za-z0-9_-]{20,}", everything):
            if not any(match in sent for sent in others):  # a name the request itself chose is no leak
                raise AssertionError("something shaped like an API token (pw_…) appears in the response")

    exports_key = method == "GET" and path == "/api/ssh-keys/{id}/private" and response.status_code == 200
    if not exports_key:
        for marker in PEM_MARKERS:
            if marker in everything and not any(marker in sent for sent in others + secrets):
                raise AssertionError(f"private-key material ({marker!r}) appears outside the export endpoint")

    if secrets:
        for secret in secrets:
            # Short or repeated values can appear by coincidence (a name equal to the password, "aaaa…").
            if len(secret) >= 12 and len(set(secret)) >= 4 and secret not in others and secret in everything:
                raise AssertionError("a secret sent in the request body is echoed in the response")
