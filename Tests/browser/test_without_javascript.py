"""With JavaScript disabled, lists, forms, a finished log, its windows, search and permalinks still work
as plain HTML."""

from conftest import NEEDLES


def test_lists_forms_and_a_finished_log_work_without_javascript(open_browser, service, runs, million):
    browser = open_browser(javascript=False)
    finished = runs.finished([{"name": "Build", "lines": ["no-js line one", "\x1b[33mno-js warning\x1b[0m"]}])

    # Signing in is a plain form post.
    browser.sign_in("admin", service.admin_password, next_path="/keys")
    assert browser.path() == "/keys"

    # Lists and forms.
    browser.find("form[action='/keys/generate'] input[name=name]").send_keys("no-js key")
    browser.find("form[action='/keys/generate'] button[type=submit]").click()
    browser.wait().until(lambda driver: "notice=created" in driver.current_url)
    assert browser.find("h1").text.startswith("no-js key")
    assert browser.find("#public-key").text.startswith("ssh-ed25519 ")
    assert browser.find_all("form[action$='/deploy'] input[name=password]")
    browser.get("/keys")
    assert any("no-js key" in row.text for row in browser.find_all("table.list tbody tr"))
    browser.get("/executions")
    assert browser.find_all("table.list tbody tr")
    assert browser.find_all("form.trigger input[name=branch]")
    browser.find("form.filter select[name=status] option[value=SUCCESS]").click()
    browser.find("form.filter button[type=submit]").click()
    browser.wait().until(lambda driver: "status=SUCCESS" in driver.current_url)
    assert all("success" in row.text for row in browser.find_all("table.list tbody tr"))

    # A finished log renders, and the script really is off (the wrap toggle does nothing).
    browser.get(f"/executions/{finished}")
    assert "no-js line one" in browser.find("#log").text
    assert "no-js warning" in browser.find("#log").text
    browser.find("[data-toggle=wrap]").click()
    assert browser.find("[data-toggle=wrap]").get_attribute("aria-pressed") == "false"

    # The million-line log: a window, "Later lines" as a plain link, search as a form, a permalink.
    browser.get(f"/executions/{million}")
    assert 0 < len(browser.find_all("#log .ln")) <= 1500
    browser.get(f"/executions/{million}?step=Build&after=0")
    assert browser.find_all("#L1")
    browser.find("#log a.more.after").click()
    browser.wait().until(lambda driver: "after=" in driver.current_url and browser.find_all("#L250"))
    browser.find("#log-search input[name=q]").send_keys("needle-xyzzy")
    browser.find("#log-search button[type=submit]").click()
    browser.wait(60).until(lambda driver: "q=needle-xyzzy" in driver.current_url)
    matches = browser.find_all("#search-results ol.matches li a")
    assert [int(link.get_attribute("data-seq")) for link in matches] == list(NEEDLES)
    matches[1].click()
    browser.wait().until(lambda driver: driver.current_url.endswith(f"#L{NEEDLES[1]}"))
    assert "needle-xyzzy" in browser.find(f"#L{NEEDLES[1]}").text
    assert browser.js("return document.querySelector(':target').id") == f"L{NEEDLES[1]}"
