"""Signing in and out through the forms (the session cookie and CSRF token of the JSON API)."""

from urllib.parse import unquote

from selenium.webdriver.support import expected_conditions


def test_anonymous_page_redirects_to_login_and_sign_in_returns_there(browser, service):
    browser.get("/keys")
    assert browser.path().startswith("/login?next=")
    assert unquote(browser.path().split("next=", 1)[1]) == "/keys"

    # A wrong password: an error (status 401), the username kept, the password never rendered back.
    browser.allow_console("/login - Failed to load resource: the server responded with a status of 401")
    browser.find("input[name=username]").send_keys("admin")
    browser.find("input[name=password]").send_keys("not-the-password")
    form = browser.find("form[action='/login']")
    browser.find("button[type=submit]").click()
    # The answer is the same URL: wait until the old form is gone before reading the new page.
    browser.wait().until(expected_conditions.staleness_of(form))
    assert "Sign in" in browser.find("h1").text
    assert browser.find("[role=alert]").text
    assert browser.find("input[name=username]").get_attribute("value") == "admin"
    assert browser.find("input[name=password]").get_attribute("value") == ""
    assert "not-the-password" not in browser.driver.page_source

    browser.find("input[name=password]").send_keys(service.admin_password)
    browser.find("button[type=submit]").click()
    browser.wait().until(lambda driver: driver.current_url.endswith("/keys"))
    assert browser.find("h1").text == "SSH keys"
    assert "admin" in browser.find("header .who").text

    # Signing out ends the session: the page sends us back to the login form.
    browser.find("header form.signout button").click()
    browser.wait().until(lambda driver: "/login" in driver.current_url)
    browser.get("/keys")
    assert browser.path().startswith("/login?next=")
