"""Session fixtures of the browser suite: the real service, fake Bitbucket, sshd, and Chromium sessions.

Run by scripts/test after the Swift tests (`.venv/bin/python -m pytest Tests/browser`). Needs the debug
build (`swift build --build-tests` makes `pipewright` and `pipewright-fake-bitbucket`), Debian's
`chromium` and `chromium-driver`, and root (sshd with password logins).
"""

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as DriverService
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.support.ui import WebDriverWait

from fixtures import REPO, SSHD, FakeBitbucket, Service, wait_until

CHROMIUM = os.environ.get("PIPEWRIGHT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PIPEWRIGHT_CHROMEDRIVER", "/usr/bin/chromedriver")
BINARY = os.environ.get("PIPEWRIGHT_BINARY", str(REPO / ".build" / "debug" / "pipewright"))
FAKE_BITBUCKET = os.environ.get(
    "PIPEWRIGHT_FAKE_BITBUCKET", str(Path(BINARY).parent / "pipewright-fake-bitbucket"))
SCREENSHOTS = Path(os.environ.get("PIPEWRIGHT_SCREENSHOTS", str(REPO / ".build" / "screenshots")))

DESKTOP = (1280, 800)
PHONE = (390, 844)


# --- The real parts ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def work():
    directory = tempfile.mkdtemp(prefix="pw-browser-")
    yield Path(directory)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def fake():
    for path in (BINARY, FAKE_BITBUCKET):
        assert os.access(path, os.X_OK), f"{path} is missing: run `swift build --build-tests` first"
    server = FakeBitbucket(FAKE_BITBUCKET)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def service(work, fake):
    server = Service(BINARY, work, fake.base_url)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sshd():
    server = SSHD()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pipeline(service, fake):
    """A Bitbucket connection to the fake and a pipeline for acme/web, made through the JSON API (the
    connections and pipelines pages are not part of this suite)."""
    connection = service.ok("POST", "/api/connections", {
        "name": "acme", "workspace": "acme",
        "auth": {"type": "api_token", "email": fake.email, "token": fake.token},
    })
    key = service.ok("POST", "/api/ssh-keys", {"name": "pipeline-deploy", "key_type": "ed25519"})
    server = service.ok("POST", "/api/servers", {"host": "203.0.113.10", "username": "deploy"})
    created = service.ok("POST", "/api/pipelines", {
        "name": "web", "connection_id": connection["id"], "repo_slug": "web",
        "deploy": {"server_ids": [server["id"]], "ssh_key_id": key["id"], "deploy_path": "/srv/web"},
    })
    return created["id"]


class Runs:
    """Starts executions of the pipeline through the API and drives their Bitbucket runs in the fake."""

    def __init__(self, service, fake, pipeline_id):
        self.service = service
        self.fake = fake
        self.pipeline_id = pipeline_id

    def script(self, steps):
        self.fake.command("script", steps=steps)

    def trigger(self, branch="main", steps=None):
        """Triggers through the API; returns (execution id, Bitbucket run uuid) once the fake has the run."""
        if steps is not None:
            self.script(steps)
        execution = self.service.ok("POST", f"/api/pipelines/{self.pipeline_id}/trigger", {"branch": branch})
        return execution["id"], self.uuid_of(execution["id"])

    def uuid_of(self, execution_id):
        def uuid():
            bitbucket = self.service.execution(execution_id).get("bitbucket") or {}
            return bitbucket.get("uuid")
        return wait_until(uuid, timeout=20, interval=0.1, message=f"execution {execution_id} reaching Bitbucket")

    def wait_status(self, execution_id, *statuses, timeout=30):
        return wait_until(
            lambda: self.service.execution(execution_id)["status"] in statuses and self.service.execution(execution_id),
            timeout=timeout, interval=0.2, message=f"execution {execution_id} in {statuses}")

    def running(self, steps=None):
        """An execution whose run stays IN_PROGRESS (step 1 started, never advanced): status BUILDING."""
        execution_id, uuid = self.trigger(steps=steps or [{"name": "Build", "lines": []}])
        self.fake.command("advance", uuid=uuid)
        self.wait_status(execution_id, "BUILDING")
        return execution_id, uuid

    def finished(self, steps, status="SUCCESS"):
        execution_id, uuid = self.trigger(steps=steps)
        self.fake.command("complete", uuid=uuid)
        self.wait_status(execution_id, status)
        return execution_id


@pytest.fixture(scope="session")
def runs(service, fake, pipeline):
    return Runs(service, fake, pipeline)


# --- A million-line log ------------------------------------------------------------------------------

MILLION = 1_000_000
NEEDLES = (123_456, 654_321, 987_654)


def million_line(number):
    if number in NEEDLES:
        return f"step {number:07d} needle-xyzzy found here\n"
    if number % 100_000 == 0:
        return f"step {number:07d} ERROR transient failure, retried\n"
    return f"step {number:07d} compiling module-{number % 97} ok\n"


@pytest.fixture(scope="session")
def million(service, runs):
    """A finished execution whose log is 1,000,000 lines (seq 1…1,000,000 in step "Build"), ingested
    through the admin endpoint in chunks of 100,000 lines. Returns the execution id."""
    execution_id = runs.finished([{"name": "Build", "lines": []}])
    chunk = 100_000
    started = time.monotonic()
    for first in range(1, MILLION + 1, chunk):
        text = "".join(million_line(number) for number in range(first, first + chunk))
        service.ingest(execution_id, "Build", text, finish=first + chunk > MILLION)
    print(f"\n1,000,000 lines ingested in {time.monotonic() - started:.1f} s")
    stats = service.ok("GET", f"/api/executions/{execution_id}/logs/stats")
    assert stats["total_lines"] == MILLION, stats
    return execution_id


# --- Chromium ----------------------------------------------------------------------------------------

class PageWait:
    """WebDriverWait whose condition is tried again when it read an element of a page being replaced.

    chromedriver reports that race in two ways: StaleElementReferenceException, or, when the old
    document goes away between finding a node and reading it, an "unknown error" whose message says the
    node "does not belong to the document". Both mean "the new page is not there yet"; every other error
    still fails the test at once.
    """

    def __init__(self, waiter):
        self.waiter = waiter

    def until(self, condition, message=""):
        def attempt(driver):
            try:
                return condition(driver)
            except WebDriverException as error:
                if "does not belong to the document" in str(error):
                    return False
                raise
        return self.waiter.until(attempt, message)


class Browser:
    """One headless Chromium session through chromedriver, with its console collected."""

    def __init__(self, base, javascript=True, size=DESKTOP):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         f"--window-size={size[0]},{size[1]}", "--hide-scrollbars", "--force-device-scale-factor=1"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        if not javascript:
            options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        self.driver = webdriver.Chrome(service=DriverService(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(60)
        self.base = base
        self.entries = []
        self.allowed = []

    # Navigation and lookup
    def get(self, path):
        self.driver.get(self.base + path)

    def path(self):
        return self.driver.current_url.removeprefix(self.base)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, timeout=15):
        # A condition may read an element of the page a click is replacing: try again on the new page.
        return PageWait(WebDriverWait(self.driver, timeout, ignored_exceptions=(StaleElementReferenceException,)))

    def wait_for(self, css, timeout=15):
        return self.wait(timeout).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))

    def js(self, script, *arguments):
        return self.driver.execute_script(script, *arguments)

    def resize(self, size):
        self.driver.set_window_size(*size)
        # set_window_size sets the outer window; make the viewport exactly `size`.
        inner = self.js("return [window.innerWidth, window.innerHeight]")
        self.driver.set_window_size(2 * size[0] - inner[0], 2 * size[1] - inner[1])

    # Sign-in through the form
    def sign_in(self, username, password, next_path="/"):
        self.get(f"/login?next={next_path}")
        self.find("input[name=username]").send_keys(username)
        field = self.find("input[name=password]")
        field.send_keys(password)
        field.submit()
        self.wait().until(lambda driver: "/login" not in driver.current_url)

    # Console
    def console(self):
        self.entries += self.driver.get_log("browser")
        return self.entries

    def allow_console(self, fragment):
        """Accepts SEVERE entries containing `fragment` (a request the test makes fail on purpose)."""
        self.allowed.append(fragment)

    def severe(self):
        return [entry for entry in self.console() if entry["level"] == "SEVERE"
                and not any(fragment in entry["message"] for fragment in self.allowed)]

    def screenshot(self, name):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def quit(self):
        self.driver.quit()


@pytest.fixture
def open_browser(service):
    """Opens Chromium sessions for one test; at the end each must have logged no SEVERE console entry."""
    opened = []

    def make(javascript=True, size=DESKTOP):
        browser = Browser(service.base, javascript=javascript, size=size)
        opened.append(browser)
        return browser

    yield make
    problems = []
    for browser in opened:
        try:
            problems += browser.severe()
        finally:
            browser.quit()
    assert problems == [], f"SEVERE console entries: {problems}"


@pytest.fixture
def browser(open_browser):
    return open_browser()


@pytest.fixture
def admin(browser, service):
    """A signed-in admin session (through the sign-in form)."""
    browser.sign_in("admin", service.admin_password)
    return browser
