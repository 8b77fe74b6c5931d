"""Every dashboard page: no SEVERE console entry (errors, CSP refusals, failed loads), no horizontal
overflow on a phone, and the screenshots of issue 14 at 1280×800 and 390×844."""

import pytest

from conftest import DESKTOP, PHONE

DEMO_BUILD = [
    "\x1b[1mpipewright demo\x1b[0m: npm ci",
    "added 812 packages in 9s",
    "\x1b[32m✔\x1b[0m lint passed",
    "\x1b[33mwarning\x1b[0m: 2 deprecated packages",
    "compiling 42 modules",
    "\x1b[36mbundle\x1b[0m dist/app.js 184 kB",
]
DEMO_TEST = [
    "running 128 tests",
    "\x1b[32m✔\x1b[0m api/keys (31 tests)",
    "\x1b[32m✔\x1b[0m api/executions (54 tests)",
    "\x1b[31m✘\x1b[0m ui/login (1 failed)",
    "ERROR: expected status 303, got 500",
    "FAILED: 1 of 128 tests failed",
]


@pytest.fixture(scope="module")
def demo(service, runs, sshd, pipeline):
    """A key deployed to the sshd, a successful run and a failed one, for pages that show something."""
    key = service.ok("POST", "/api/ssh-keys", {"name": "production deploy", "key_type": "ed25519"})
    service.ok("POST", f"/api/ssh-keys/{key['id']}/deploy", {"servers": [
        {"host": "127.0.0.1", "port": sshd.port, "username": sshd.user, "password": sshd.password}]})
    passed = runs.finished([{"name": "Build", "lines": DEMO_BUILD}, {"name": "Test", "lines": DEMO_TEST[:3]}])
    failed = runs.finished(
        [{"name": "Build", "lines": DEMO_BUILD}, {"name": "Test", "lines": DEMO_TEST, "result": "failed"}],
        status="FAILED")
    server = service.ok("GET", "/api/servers")["items"][0]["id"]
    return {"key": key["id"], "passed": passed, "failed": failed, "pipeline": pipeline, "server": server}


def pages(demo, million):
    return [
        ("overview", "/"),
        ("keys", "/keys"),
        ("key", f"/keys/{demo['key']}"),
        ("key-export", f"/keys/{demo['key']}/export"),
        ("executions", "/executions"),
        ("execution-log", f"/executions/{demo['failed']}"),
        ("execution-log-success", f"/executions/{demo['passed']}"),
        ("execution-search", f"/executions/{demo['failed']}?q=tests"),
        ("execution-million", f"/executions/{million}?around=500000#L500000"),
        ("pipelines", "/pipelines"),
        ("pipeline", f"/pipelines/{demo['pipeline']}?preview=1"),
        ("pipeline-new", "/pipelines/new"),
        ("pipeline-edit", f"/pipelines/{demo['pipeline']}/edit"),
        ("servers", "/servers"),
        ("server", f"/servers/{demo['server']}"),
        ("connections", "/connections"),
        ("audit", "/audit"),
        ("account", "/account"),
        ("account-password", "/account/password"),
        ("users", "/users"),
    ]


def test_no_severe_console_entry_on_any_page(open_browser, service, demo, million):
    browser = open_browser()
    browser.get("/login")
    assert browser.severe() == []
    browser.sign_in("admin", service.admin_password)
    for name, path in pages(demo, million):
        browser.get(path)
        browser.wait_for("main")
        browser.js("return new Promise(resolve => setTimeout(resolve, 300))")  # let the script run
        assert browser.severe() == [], f"{name} ({path})"


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1280x800", "390x844"])
def test_screenshots_of_the_main_pages(open_browser, service, demo, size):
    browser = open_browser(size=size)
    suffix = f"{size[0]}x{size[1]}"
    browser.resize(size)
    assert browser.js("return [innerWidth, innerHeight]") == list(size)

    def shoot(name):
        browser.js("return new Promise(resolve => setTimeout(resolve, 200))")
        overflow = browser.js("return document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"{name} at {suffix} is {overflow} px wider than the viewport"
        browser.screenshot(f"{name}-{suffix}")

    browser.get("/login")
    shoot("login")
    browser.sign_in("admin", service.admin_password)
    for name, path in [
        ("overview", "/"),
        ("keys", "/keys"),
        ("key", f"/keys/{demo['key']}"),
        ("executions", "/executions"),
        ("execution-log", f"/executions/{demo['failed']}"),
        ("pipelines", "/pipelines"),
        ("pipeline", f"/pipelines/{demo['pipeline']}?preview=1"),
        ("pipeline-new", "/pipelines/new"),
        ("servers", "/servers"),
        ("server", f"/servers/{demo['server']}"),
        ("connections", "/connections"),
        ("audit", "/audit"),
        ("account", "/account"),
        ("users", "/users"),
    ]:
        browser.get(path)
        browser.wait_for("main")
        shoot(name)
