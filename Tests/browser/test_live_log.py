"""The execution page while the execution runs: live lines over SSE to SUCCESS, follow by scroll
position, and resume after the stream is cut."""

import time

from fixtures import CuttableProxy


def shown_seqs(browser):
    return browser.js("return [...document.querySelectorAll('#log .ln')].map(row => Number(row.dataset.seq))")


def shown_texts(browser):
    return browser.js("return [...document.querySelectorAll('#log .ln .tx')].map(cell => cell.textContent)")


def test_trigger_from_the_page_and_watch_the_live_log_reach_success(admin, fake, runs):
    browser = admin
    runs.script([
        {"name": "Build", "lines": ["\x1b[32mcompiled 42 files\x1b[0m"]},
        {"name": "Test", "lines": ["128 tests passed"]},
    ])
    browser.get("/executions")
    browser.find("form.trigger button[type=submit]").click()
    browser.wait().until(lambda driver: "/executions/" in driver.current_url)
    execution_id = int(browser.path().split("/")[2])
    browser.js("window.pwNoReload = true")
    assert browser.find("#execution").get_attribute("data-finished") == "false"

    uuid = runs.uuid_of(execution_id)
    fake.command("advance", uuid=uuid)  # step Build starts
    # Bitbucket's step log grows while the page is open; the service's monitor polls it every second.
    fake.command("append", uuid=uuid, step=0, text="live: fetching dependencies\n")
    browser.wait(30).until(lambda driver: "live: fetching dependencies" in browser.find("#log").text)
    browser.wait(15).until(lambda driver: "building" in browser.find("#execution-status .badge").text)
    fake.command("append", uuid=uuid, step=0, text="live: linking\n")
    browser.wait(30).until(lambda driver: "live: linking" in browser.find("#log").text)

    fake.command("complete", uuid=uuid)
    browser.wait(30).until(lambda driver: browser.find("#execution-status .badge").text == "success")
    browser.wait(15).until(lambda driver: "128 tests passed" in browser.find("#log").text)
    assert "compiled 42 files" in browser.find("#log").text
    assert browser.find("#execution").get_attribute("data-finished") == "true"
    assert browser.js("return window.pwNoReload") is True, "the page was reloaded"
    assert browser.find("#status").text == "Execution finished: SUCCESS"
    # Every line exactly once, in order.
    seqs = shown_seqs(browser)
    assert seqs == sorted(set(seqs)), seqs


def test_follow_stops_on_scroll_up_and_resumes_at_the_bottom(admin, service, runs):
    browser = admin
    execution_id, _ = runs.running()
    browser.get(f"/executions/{execution_id}")
    lines = iter(range(1, 10_000))

    def ingest(count):
        service.ingest(execution_id, "Build", "".join(f"follow line {next(lines):05d}\n" for _ in range(count)))
        last = service.ok("GET", f"/api/executions/{execution_id}/logs/stats")["total_lines"]
        browser.wait(15).until(lambda driver: f"{last:05d}" in (shown_texts(browser) or [""])[-1])

    def at_bottom():
        return browser.js("const l = document.getElementById('log'); "
                          "return l.scrollHeight - l.scrollTop - l.clientHeight < 40")

    jump = browser.find("#jump-latest")
    ingest(300)
    assert browser.js("const l = document.getElementById('log'); return l.scrollHeight > l.clientHeight * 2")
    browser.wait(5).until(lambda driver: at_bottom())
    assert not jump.is_displayed()

    # Scrolling up stops following: new lines arrive below, the view stays where the reader is.
    browser.js("document.getElementById('log').scrollTop = 0")
    browser.wait(5).until(lambda driver: jump.is_displayed())
    ingest(50)
    time.sleep(0.3)
    assert browser.js("return document.getElementById('log').scrollTop") < 50
    assert not at_bottom()

    # "Jump to latest" returns to the bottom and follows again.
    jump.click()
    browser.wait(5).until(lambda driver: at_bottom())
    assert not jump.is_displayed()
    ingest(50)
    browser.wait(5).until(lambda driver: at_bottom())

    # Scrolling back down by hand resumes following too.
    browser.js("document.getElementById('log').scrollTop = 0")
    browser.wait(5).until(lambda driver: jump.is_displayed())
    browser.js("const l = document.getElementById('log'); l.scrollTop = l.scrollHeight")
    browser.wait(5).until(lambda driver: not jump.is_displayed())
    ingest(50)
    browser.wait(5).until(lambda driver: at_bottom())


def test_live_stream_resumes_after_a_cut_without_gap_or_duplicate(admin, service, runs):
    browser = admin
    execution_id, _ = runs.running()
    # The page goes through a relay whose connections the test cuts (the session cookie is per host).
    proxy = CuttableProxy(service.port)
    try:
        browser.driver.get(f"{proxy.base}/executions/{execution_id}")

        def ingest(first, last):
            service.ingest(execution_id, "Build", "".join(f"resume line {n:04d}\n" for n in range(first, last + 1)))

        ingest(1, 100)
        browser.wait(15).until(lambda driver: len(shown_seqs(browser)) == 100)

        # Cut the stream and keep the service unreachable while lines are written, then let it back.
        browser.allow_console("/live")  # the browser reports the dropped stream
        proxy.cut()
        ingest(101, 200)
        time.sleep(2)
        assert len(shown_seqs(browser)) == 100, "lines arrived although the stream was cut"
        proxy.restore()
        browser.wait(30).until(lambda driver: len(shown_seqs(browser)) >= 200)
        ingest(201, 250)
        browser.wait(15).until(lambda driver: len(shown_seqs(browser)) >= 250)
        time.sleep(1)

        seqs = shown_seqs(browser)
        texts = shown_texts(browser)
        assert len(seqs) == len(set(seqs)) == 250, "duplicate lines after the resume"
        assert seqs == list(range(seqs[0], seqs[0] + 250)), "a gap after the resume"
        assert texts == [f"resume line {n:04d}" for n in range(1, 251)]
    finally:
        proxy.close()
