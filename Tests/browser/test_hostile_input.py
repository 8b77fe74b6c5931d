"""Markup in user-, server-, Bitbucket- and log-derived text (a commit message included) renders as text: no alert, no element, no
console error (an injected inline handler would also be refused by the CSP, which logs an error)."""

import pytest
from selenium.common.exceptions import NoAlertPresentException

SCRIPT = "<script>alert('pw-xss')</script>"
IMAGE = "<img src=x onerror=alert('pw-xss')>"
# A valid git branch name (no spaces) that is still markup.
BRANCH = "<script>alert(1)</script><img/src=x/onerror=alert(1)>"


def assert_inert(browser, *texts):
    with pytest.raises(NoAlertPresentException):
        browser.driver.switch_to.alert
    assert browser.find_all("main script") == []
    assert browser.js("return document.querySelectorAll('img[src=x], main img').length") == 0
    body = browser.find("body").text
    for text in texts:
        assert text in body, f"{text!r} is not shown as text"


def test_markup_in_key_name_hostname_branch_commit_message_bitbucket_answer_and_log_line_is_inert(
        admin, service, fake, runs):
    browser = admin

    # A key name.
    name = f"{SCRIPT}{IMAGE}"
    browser.get("/keys")
    browser.find("form[action='/keys/generate'] input[name=name]").send_keys(name)
    browser.find("form[action='/keys/generate'] button[type=submit]").click()
    browser.wait().until(lambda driver: "notice=created" in driver.current_url)
    key_page = browser.path().split("?")[0]
    assert browser.find("h1").text.startswith(name)
    assert_inert(browser, name)
    browser.get("/keys")
    assert_inert(browser, name)

    # A hostname typed as an inline deploy target: refused, and shown back in the form as a value.
    browser.allow_console(f"{key_page}/deploy")  # the refusal is a 4xx page
    browser.get(key_page)
    form = browser.find("form[action$='/deploy']")
    host = f"{IMAGE}.example.com"
    form.find_element("css selector", "input[name=host]").send_keys(host)
    form.find_element("css selector", "input[name=username]").send_keys(SCRIPT)
    form.find_element("css selector", "input[name=password]").send_keys("one-time")
    form.find_element("css selector", "button[type=submit]").click()
    browser.wait_for("[role=alert], .error")
    assert browser.find("form[action$='/deploy'] input[name=host]").get_attribute("value") == host
    assert browser.find("form[action$='/deploy'] input[name=username]").get_attribute("value") == SCRIPT
    assert_inert(browser)

    # A branch that exists on Bitbucket, its head commit's message markup too, triggered from the
    # executions page.
    message = f"Fix {SCRIPT} and {IMAGE}"
    fake.command("branch", name=BRANCH, message=f"{message}\n\nA body that is not shown.")
    runs.script([{"name": "Build", "lines": [f"checking out {BRANCH}"]}])
    browser.get("/executions")
    trigger = browser.find("form.trigger")
    branch_field = trigger.find_element("css selector", "input[name=branch]")
    branch_field.clear()
    branch_field.send_keys(BRANCH)
    trigger.find_element("css selector", "button[type=submit]").click()
    browser.wait().until(lambda driver: "/executions/" in driver.current_url)
    execution_id = int(browser.path().split("/")[2].split("?")[0].split("#")[0])
    assert_inert(browser, BRANCH)
    fake.command("complete", uuid=runs.uuid_of(execution_id))
    runs.wait_status(execution_id, "SUCCESS")

    # A log line (from the Bitbucket step log, and one through ingestion with colours around markup).
    service.ingest(execution_id, "Build", f"\x1b[31m{IMAGE}\x1b[0m {SCRIPT}\n", finish=True)
    browser.get(f"/executions/{execution_id}")
    assert browser.find_all(".ln")
    assert_inert(browser, BRANCH, f"checking out {BRANCH}", f"{IMAGE} {SCRIPT}", message)
    assert browser.find(".commit-message").text == message
    browser.get(f"/executions?branch={BRANCH}")
    assert_inert(browser, BRANCH)

    # Search results highlight inside markup-looking text.
    browser.get(f"/executions/{execution_id}")
    search = browser.find("#log-search input[name=q]")
    search.send_keys("onerror")
    browser.find("#log-search button[type=submit]").click()
    browser.wait().until(lambda driver: browser.find_all("#search-results ol.matches li"))
    assert browser.find_all("#search-results mark")
    assert_inert(browser)

    # An answer from Bitbucket quoting the branch: a branch Bitbucket does not know.
    unknown = "<img/src=x/onerror=alert(2)>"
    status, answer = service.api("POST", f"/api/pipelines/{runs.pipeline_id}/trigger", {"branch": unknown})
    assert status == 202, answer
    execution = runs.wait_status(answer["id"], "ERROR", "FAILED")
    browser.get(f"/executions/{execution['id']}")
    assert_inert(browser, unknown)
    assert unknown in browser.find("section.attempts").text, "Bitbucket's answer quoting the branch is shown"
