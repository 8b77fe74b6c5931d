"""A 1,000,000-line log: permalinks far from the first window, whole-log search with next/previous, and a
bounded DOM."""

from conftest import NEEDLES


def rows_in_dom(browser):
    return browser.js("return document.querySelectorAll('#log .ln').length")


def target(browser):
    return browser.js("const t = document.querySelector('#log .ln.target'); return t ? t.id : null")


def in_view(browser, seq):
    return browser.js(
        "const row = document.getElementById(arguments[0]); const log = document.getElementById('log');"
        "if (!row) return false; const r = row.getBoundingClientRect(), l = log.getBoundingClientRect();"
        "return r.top >= l.top && r.bottom <= l.bottom", f"L{seq}")


def test_permalink_to_line_250000_scrolls_to_and_highlights_it(admin, million):
    browser = admin
    browser.get(f"/executions/{million}#L250000")
    browser.wait(30).until(lambda driver: target(browser) == "L250000")
    assert "step 0250000 compiling" in browser.find("#L250000").text
    browser.wait(5).until(lambda driver: in_view(browser, 250000))
    assert browser.js("return location.hash") == "#L250000"
    assert browser.find("#L250000").find_element("xpath", "ancestor::details").get_attribute("open") is not None
    assert rows_in_dom(browser) <= 1500

    # Clicking a line number makes that line the permalink.
    browser.find("#L250003 a.no").click()
    browser.wait(5).until(lambda driver: target(browser) == "L250003")
    assert browser.js("return location.hash") == "#L250003"

    # Scrolling through later windows keeps the DOM bounded.
    for _ in range(12):
        browser.js("const l = document.getElementById('log'); l.scrollTop = l.scrollHeight")
        browser.wait(10).until(lambda driver: browser.js(
            "return document.querySelector('#log .lines').dataset.last") != "")
        browser.js("return new Promise(r => setTimeout(r, 150))")
    assert rows_in_dom(browser) <= 1500
    assert browser.js("return Number(document.querySelector('#log .lines').dataset.last)") > 250_003 + 1000


def test_search_finds_matches_outside_the_window_and_next_previous_jump_to_them(admin, million):
    browser = admin
    browser.get(f"/executions/{million}")
    browser.wait_for("#log .ln")
    for seq in NEEDLES:
        assert browser.find_all(f"#L{seq}") == [], "the needle is already rendered; the test proves nothing"

    browser.find("#log-search input[name=q]").send_keys("needle-xyzzy")
    browser.find("#log-search button[type=submit]").click()
    browser.wait(60).until(lambda driver: len(browser.find_all("#search-results ol.matches li")) == 3)
    assert browser.find("#search-results .search-summary").text.startswith("3 matches")
    assert len(browser.find_all("#search-results mark")) == 3

    buttons = {button.text: button for button in browser.find_all("#search-results .search-nav button")}
    next_match, previous_match = buttons["↓ Next match"], buttons["↑ Previous match"]
    for seq in NEEDLES:
        next_match.click()
        browser.wait(30).until(lambda driver: target(browser) == f"L{seq}")
        assert "needle-xyzzy" in browser.find(f"#L{seq}").text
        browser.wait(5).until(lambda driver: in_view(browser, seq))
    previous_match.click()
    browser.wait(30).until(lambda driver: target(browser) == f"L{NEEDLES[1]}")
    previous_match.click()
    browser.wait(30).until(lambda driver: target(browser) == f"L{NEEDLES[0]}")
    assert rows_in_dom(browser) <= 1500
    assert browser.find("#status").text == "3 matches"
