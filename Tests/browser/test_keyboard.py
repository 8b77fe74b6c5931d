"""Keyboard only: sign in, trigger a pipeline, open its log and move through it (no mouse, no script)."""

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys


def press(browser, *keys):
    ActionChains(browser.driver).send_keys(*keys).perform()


def focused(browser, script):
    return browser.js(f"const e = document.activeElement; return Boolean({script})")


def tab_to(browser, script, limit=80):
    """Presses Tab until the focused element satisfies `script` (a JS expression over `e`)."""
    for _ in range(limit):
        press(browser, Keys.TAB)
        if focused(browser, script):
            return
    raise AssertionError(f"Tab never reached an element where {script}")


def test_keyboard_only_sign_in_trigger_and_open_a_log(browser, service, fake, runs):
    runs.script([{"name": "Build", "lines": [f"keyboard build line {n}" for n in range(1, 301)]}])
    browser.get("/login")
    assert focused(browser, "e.name === 'username'"), "the username field has focus on arrival"
    press(browser, "admin", Keys.TAB, service.admin_password, Keys.ENTER)
    browser.wait().until(lambda driver: driver.current_url.rstrip("/") == service.base)

    tab_to(browser, "e.matches('nav a') && e.textContent === 'Executions'")
    press(browser, Keys.ENTER)
    browser.wait().until(lambda driver: driver.current_url.endswith("/executions"))

    tab_to(browser, "e.matches('form.trigger input[name=branch]')")
    press(browser, Keys.ENTER)  # implicit submission of the trigger form
    browser.wait().until(lambda driver: "/executions/" in driver.current_url)
    execution_id = int(browser.path().split("/")[2])
    fake.command("complete", uuid=runs.uuid_of(execution_id))
    runs.wait_status(execution_id, "SUCCESS")

    # Back to the list by the breadcrumb, then open the execution's log from the table.
    tab_to(browser, "e.matches('.crumbs a') && e.textContent === 'Executions'")
    press(browser, Keys.ENTER)
    browser.wait().until(lambda driver: driver.current_url.endswith("/executions"))
    tab_to(browser, f"e.matches('table.list a') && e.textContent === '{execution_id}'")
    press(browser, Keys.ENTER)
    browser.wait().until(lambda driver: driver.current_url.endswith(f"/executions/{execution_id}"))
    browser.wait(15).until(lambda driver: "keyboard build line 300" in browser.find("#log").text)

    # The log is focusable and scrolls with the keyboard.
    tab_to(browser, "e.id === 'log'")
    browser.js("document.getElementById('log').scrollTop = 0")
    press(browser, Keys.END)
    browser.wait(5).until(lambda driver: browser.js(
        "const l = document.getElementById('log'); return l.scrollTop > 0 && "
        "l.scrollHeight - l.scrollTop - l.clientHeight < 40"))
    press(browser, Keys.HOME)
    browser.wait(5).until(lambda driver: browser.js("return document.getElementById('log').scrollTop") == 0)

    # A step section folds and unfolds from the keyboard.
    tab_to(browser, "e.matches('details.step > summary')")
    press(browser, Keys.ENTER)
    assert browser.js("return document.activeElement.parentElement.open") is False
    press(browser, Keys.ENTER)
    assert browser.js("return document.activeElement.parentElement.open") is True
