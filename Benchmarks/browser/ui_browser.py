"""Browser half of `pipewright-bench ui`: the execution page in a real headless Chromium (Debian's
`chromium` through `chromium-driver`, driven by Selenium), against the release service the Swift half
started and filled. Run by UIBenchmark.swift; prints one line per figure with its goal and its ratio to
the baseline measured in the same run (the same page over a 100-line log).

    ui_browser.py BASE PASSWORD TOKEN MILLION_ID LINES SMALL_ID LIVE_ID

Figures (issue 14 "Benchmark"):
  - time to first lines: First Contentful Paint of /executions/{id} (the first lines are rendered by the
    server, so they are in that paint), median of 5 loads; goal < 500 ms;
  - JS heap after 20 windows: Chromium's JSHeapUsedSize (DevTools Performance.getMetrics, after a forced
    garbage collection) once the viewer has fetched 20 earlier windows by scrolling up; goal < 100 MB;
  - longest task while 1,000 lines/s arrive for 30 s: the longest `longtask` PerformanceObserver entry on
    the live page, with the lines ingested through POST /api/executions/{id}/logs in 100 ms batches;
    goal < 100 ms;
  - DOM rows: the number of log rows in the page after each of those (bounded by the viewer's window).
"""

import statistics
import sys
import threading
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

base, password, token, million_id, lines, small_id, live_id = sys.argv[1:8]
lines = int(lines)

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1280,800", "--enable-precise-memory-info"):
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(120)
wait = WebDriverWait(driver, 60)


def js(script, *arguments):
    return driver.execute_script(script, *arguments)


def sign_in():
    driver.get(f"{base}/login")
    driver.find_element(By.NAME, "username").send_keys("admin")
    field = driver.find_element(By.NAME, "password")
    field.send_keys(password)
    field.submit()
    wait.until(lambda d: "/login" not in d.current_url)


def first_paint(execution_id):
    """Median First Contentful Paint (ms) of the execution page over 5 loads, and its log rows."""
    paints = []
    for _ in range(6):
        driver.get(f"{base}/executions/{execution_id}")
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#log .ln"))
        paint = wait.until(lambda d: js(
            "const e = performance.getEntriesByName('first-contentful-paint')[0]; return e ? e.startTime : null"))
        paints.append(paint)
    rows = js("return document.querySelectorAll('#log .ln').length")
    return statistics.median(paints[1:]), rows  # the first load warms the caches


def heap_mb():
    driver.execute_cdp_cmd("HeapProfiler.enable", {})
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    driver.execute_cdp_cmd("Performance.enable", {})
    metrics = driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    return next(m["value"] for m in metrics if m["name"] == "JSHeapUsedSize") / 1_048_576


def observe_long_tasks():
    js("window.pwLongest = 0; new PerformanceObserver(list => { for (const e of list.getEntries())"
       " window.pwLongest = Math.max(window.pwLongest, e.duration); }).observe({type: 'longtask', buffered: true});")


def ingest(execution_id, seconds, per_second=1000, batch_ms=100):
    """Appends `per_second` lines a second for `seconds`, in batches every `batch_ms`; returns the last line."""
    per_batch = per_second * batch_ms // 1000
    started = time.monotonic()
    n = 0
    last = ""
    while time.monotonic() - started < seconds:
        text = "".join(f"live line {n + i}: \x1b[36mcompiling\x1b[0m module {n + i}\n" for i in range(per_batch))
        n += per_batch
        last = f"live line {n - 1}:"
        request = urllib.request.Request(
            f"{base}/api/executions/{execution_id}/logs?step=Build", data=text.encode(), method="POST",
            headers={"Authorization": f"Bearer {token}"})
        urllib.request.urlopen(request, timeout=30).read()
        time.sleep(max(0, started + n / per_second - time.monotonic()))
    return last, n


def report(name, value, unit, goal, baseline=None):
    verdict = "ok" if value < goal else "MISSED"
    ratio = f"; × {value / baseline:.2f} the baseline" if baseline else ""
    print(f"  browser: {name}: {value:.1f} {unit} (goal < {goal} {unit}: {verdict}){ratio}", flush=True)


sign_in()
small_paint, small_rows = first_paint(small_id)
small_heap = heap_mb()
observe_long_tasks()
time.sleep(1)
small_longest = js("return window.pwLongest")
big_paint, big_rows = first_paint(million_id)
print(f"  browser baseline: the same page over 100 lines: first paint {small_paint:.1f} ms, "
      f"heap {small_heap:.1f} MB, longest task on load {small_longest:.1f} ms", flush=True)
report(f"time to first lines of a {lines:,}-line log ({big_rows} rows rendered)", big_paint, "ms", 500,
       small_paint)

# 20 earlier windows, fetched by scrolling the log to its top.
middle = lines // 2
driver.get(f"{base}/executions/{million_id}?around={middle}#L{middle}")
wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#log .ln"))
most_rows = 0
for window in range(20):
    first = js("return document.querySelector('#log .lines[data-first]').dataset.first")
    js("document.getElementById('log').scrollTop = 0")
    WebDriverWait(driver, 30).until(
        lambda d: js("return document.querySelector('#log .lines[data-first]').dataset.first") != first)
    most_rows = max(most_rows, js("return document.querySelectorAll('#log .ln').length"))
reached = js("return document.querySelector('#log .lines[data-first]').dataset.first")
report(f"JS heap after 20 windows (now from line {reached}; at most {most_rows} rows in the DOM)", heap_mb(),
       "MB", 100, small_heap)

# Live: 1,000 lines/s for 30 s while the page follows.
driver.get(f"{base}/executions/{live_id}")
wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#log"))
observe_long_tasks()
last, sent = ingest(live_id, 30)
WebDriverWait(driver, 30).until(lambda d: last in d.find_element(By.ID, "log").text)
longest = js("return window.pwLongest")
rows = js("return document.querySelectorAll('#log .ln').length")
report(f"longest task while {sent:,} lines arrived at 1,000 lines/s for 30 s ({rows} rows in the DOM; "
       f"the last line shown)", longest, "ms", 100, small_longest or None)
driver.quit()
