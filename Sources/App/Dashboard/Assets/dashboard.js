// Pipewright dashboard: the one ES module. Every page works without it; it adds copy buttons and, on an
// execution page, the log viewer's windows, permalinks, search, toggles and live lines (docs/dashboard.md).
// Lines always arrive as HTML rendered (and escaped) by the server; this script never builds markup from
// text it received.

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      button.textContent = "Copied";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(source);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      button.textContent = "Selected: press Ctrl+C";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 2000);
  });
}

const root = document.getElementById("execution");
if (root) startLogViewer(root);

function startLogViewer(root) {
  const executionID = root.dataset.execution;
  const base = `/executions/${executionID}`;
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const jump = document.getElementById("jump-latest");
  // Rows kept in the DOM at most, whatever the log's size; windows beyond are dropped and fetched again.
  const maxRows = 1500;
  let following = root.dataset.finished !== "true";
  let loading = new Set();

  // --- Toggles (remembered per browser) -------------------------------------------------------------
  for (const toggle of document.querySelectorAll("[data-toggle]")) {
    const name = toggle.dataset.toggle;
    const stored = localStorage.getItem(`pipewright.${name}`);
    if (stored !== null) apply(name, stored === "true");
    toggle.addEventListener("click", () => {
      const on = toggle.getAttribute("aria-pressed") !== "true";
      apply(name, on);
      localStorage.setItem(`pipewright.${name}`, String(on));
    });
    function apply(name, on) {
      toggle.setAttribute("aria-pressed", String(on));
      if (name === "timestamps") log.classList.toggle("hide-ts", !on);
      if (name === "wrap") log.classList.toggle("wrap", on);
    }
  }

  // --- Panes and windows ----------------------------------------------------------------------------
  const paneOf = (step) => [...log.querySelectorAll(".lines")].find((pane) => pane.dataset.step === step);
  const rowsOf = (pane) => pane.querySelector(".rows");
  const number = (value) => (value === undefined || value === "" ? null : Number(value));

  async function fetchJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body?.error?.message || `HTTP ${response.status}`);
    return body;
  }

  function setEdges(pane, first, last, hasBefore, hasAfter) {
    pane.dataset.first = first ?? "";
    pane.dataset.last = last ?? "";
    pane.dataset.hasBefore = String(hasBefore);
    pane.dataset.hasAfter = String(hasAfter);
    for (const link of pane.querySelectorAll(".more")) link.remove();
    if (hasBefore) pane.prepend(moreLink(pane, "before", "Earlier lines"));
    if (hasAfter) pane.append(moreLink(pane, "after", "Later lines"));
  }

  function moreLink(pane, direction, text) {
    const link = document.createElement("a");
    link.className = `more ${direction}`;
    link.textContent = text;
    const seq = direction === "before" ? pane.dataset.first : pane.dataset.last;
    const query = new URLSearchParams({ step: pane.dataset.step, [direction]: seq });
    link.href = `${base}?${query}`;
    observer.observe(link);
    return link;
  }

  function selectionInside(element) {
    const selection = getSelection();
    return selection && !selection.isCollapsed && selection.rangeCount > 0 &&
      element.contains(selection.getRangeAt(0).commonAncestorContainer);
  }

  // Drops rows beyond maxRows from the end away from `keep` ("top" keeps the top rows), in one DOM
  // operation. While following, the view jumps to the bottom anyway: no scroll position to keep, so no
  // layout is forced here.
  function trim(pane, keep) {
    const rows = rowsOf(pane);
    const excess = rows.children.length - maxRows;
    if (excess <= 0 || selectionInside(rows)) return;
    const range = document.createRange();
    if (keep === "top") {
      range.setStartBefore(rows.children[rows.children.length - excess]);
      range.setEndAfter(rows.lastElementChild);
      range.deleteContents();
      setEdges(pane, pane.dataset.first, rows.lastElementChild?.dataset.seq, pane.dataset.hasBefore === "true", true);
    } else {
      const before = following ? 0 : log.scrollHeight;
      range.setStartBefore(rows.firstElementChild);
      range.setEndAfter(rows.children[excess - 1]);
      range.deleteContents();
      if (!following) log.scrollTop -= before - log.scrollHeight;
      setEdges(pane, rows.firstElementChild?.dataset.seq, pane.dataset.last, true, pane.dataset.hasAfter === "true");
    }
  }

  // A pane's rows are replaced wholesale by a permalink or "Jump to latest"; a window fetched for the
  // rows it replaced must not be glued onto the new ones.
  const generations = new WeakMap();
  function replaceRows(pane, window) {
    generations.set(pane, (generations.get(pane) ?? 0) + 1);
    rowsOf(pane).innerHTML = window.html;
    setEdges(pane, window.first_seq, window.last_seq, window.has_before, window.has_after);
  }

  async function loadMore(pane, direction) {
    const key = `${pane.dataset.step}:${direction}`;
    if (loading.has(key)) return;
    const seq = direction === "before" ? pane.dataset.first : pane.dataset.last;
    if (seq === "") return;
    loading.add(key);
    const generation = generations.get(pane) ?? 0;
    try {
      const query = new URLSearchParams({ step: pane.dataset.step, [direction]: seq });
      const window = await fetchJSON(`${base}/window?${query}`);
      if ((generations.get(pane) ?? 0) !== generation) return;
      const rows = rowsOf(pane);
      if (direction === "before") {
        const before = log.scrollHeight;
        rows.insertAdjacentHTML("afterbegin", window.html);
        log.scrollTop += log.scrollHeight - before;
        setEdges(pane, window.first_seq ?? pane.dataset.first, pane.dataset.last, window.has_before,
          pane.dataset.hasAfter === "true");
        trim(pane, "top");
      } else {
        rows.insertAdjacentHTML("beforeend", window.html);
        setEdges(pane, pane.dataset.first || window.first_seq, window.last_seq ?? pane.dataset.last,
          pane.dataset.hasBefore === "true", window.has_after);
        trim(pane, "bottom");
      }
    } catch (error) {
      announce(`Could not load lines: ${error.message}`);
    } finally {
      loading.delete(key);
    }
  }

  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const link = entry.target;
      const pane = link.closest(".lines");
      if (pane && link.isConnected) loadMore(pane, link.classList.contains("before") ? "before" : "after");
    }
  }, { root: log, rootMargin: "400px 0px" });

  for (const pane of log.querySelectorAll(".lines")) {
    setEdges(pane, pane.dataset.first, pane.dataset.last, pane.dataset.hasBefore === "true",
      pane.dataset.hasAfter === "true");
    for (const link of pane.querySelectorAll(".more.load")) link.remove();
  }

  // Opening a step that shows nothing yet loads its first lines.
  for (const details of log.querySelectorAll("details.step")) {
    details.addEventListener("toggle", () => {
      const pane = details.querySelector(".lines");
      if (details.open && pane && rowsOf(pane).children.length === 0) {
        pane.dataset.last = String(Math.max(0, (number(pane.dataset.stepFirst) ?? 1) - 1));
        loadMore(pane, "after");
      }
    });
  }

  // Links to earlier/later windows work without the script; with it they load in place.
  log.addEventListener("click", (event) => {
    const link = event.target.closest("a.more");
    if (!link) return;
    event.preventDefault();
    loadMore(link.closest(".lines"), link.classList.contains("before") ? "before" : "after");
  });

  // --- Permalinks: #L<seq> ---------------------------------------------------------------------------
  async function goToLine(seq, { updateHash = true } = {}) {
    if (updateHash && location.hash !== `#L${seq}`) history.replaceState(null, "", `#L${seq}`);
    let row = document.getElementById(`L${seq}`);
    if (!row) {
      try {
        const window = await fetchJSON(`${base}/window?around=${seq}`);
        const pane = paneOf(window.step);
        if (!pane) return;
        replaceRows(pane, window);
        row = document.getElementById(`L${seq}`);
      } catch (error) {
        announce(`Line ${seq}: ${error.message}`);
        return;
      }
    }
    if (!row) return;
    const details = row.closest("details");
    if (details) details.open = true;
    for (const old of log.querySelectorAll(".ln.target")) old.classList.remove("target");
    row.classList.add("target");
    following = false;
    row.scrollIntoView({ block: "center" });
    showJump();
  }

  const hashLine = () => {
    const match = /^#L(\d+)$/.exec(location.hash);
    return match ? Number(match[1]) : null;
  };
  window.addEventListener("hashchange", () => {
    const seq = hashLine();
    if (seq !== null) goToLine(seq, { updateHash: false });
  });
  if (hashLine() !== null) goToLine(hashLine(), { updateHash: false });

  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-seq], .ln a.no");
    if (!link || !root.contains(link)) return;
    const seq = Number(link.dataset.seq ?? link.closest(".ln")?.dataset.seq);
    if (!Number.isFinite(seq)) return;
    event.preventDefault();
    const item = link.closest("ol.matches li");
    if (item) markCurrent(item);
    goToLine(seq);
  });

  // --- Search over the whole log ---------------------------------------------------------------------
  const searchForm = document.getElementById("log-search");
  const results = document.getElementById("search-results");
  let current = -1;

  function markCurrent(item) {
    const items = [...results.querySelectorAll("ol.matches li")];
    for (const other of items) other.classList.remove("current");
    item.classList.add("current");
    current = items.indexOf(item);
  }

  async function runSearch(params) {
    try {
      const found = await fetchJSON(`${base}/search?${params}`);
      results.innerHTML = found.html;
      current = -1;
      addSearchNavigation(params, found);
      announce(`${found.total}${found.partial ? "+" : ""} matches`);
    } catch (error) {
      results.textContent = error.message;
    }
  }

  function addSearchNavigation(params, found) {
    for (const link of results.querySelectorAll(".pager a")) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const page = new URL(link.href, location.href).searchParams.get("page");
        params.set("page", page);
        runSearch(params);
      });
    }
    if (found.total === 0) return;
    const nav = document.createElement("div");
    nav.className = "search-nav";
    const previous = Object.assign(document.createElement("button"), { type: "button", textContent: "↑ Previous match" });
    const next = Object.assign(document.createElement("button"), { type: "button", textContent: "↓ Next match" });
    previous.addEventListener("click", () => step(-1));
    next.addEventListener("click", () => step(1));
    nav.append(previous, next);
    results.prepend(nav);

    function step(delta) {
      const items = [...results.querySelectorAll("ol.matches li")];
      const index = current + delta;
      if (index >= 0 && index < items.length) {
        markCurrent(items[index]);
        items[index].scrollIntoView({ block: "nearest" });
        goToLine(Number(items[index].querySelector("a[data-seq]").dataset.seq));
        return;
      }
      const page = Number(params.get("page") || 1) + (delta > 0 ? 1 : -1);
      const pages = Math.ceil(found.total / found.per_page);
      if (page < 1 || page > pages) return;
      params.set("page", String(page));
      runSearch(params).then(() => step(delta > 0 ? 1 : -1));
    }
  }

  searchForm?.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(searchForm)) if (value !== "") params.set(key, value);
    if (!params.has("q") && !params.has("level")) {
      results.innerHTML = "";
      return;
    }
    runSearch(params);
  });

  // --- Follow by scroll position -------------------------------------------------------------------
  const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  function showJump() { jump.hidden = following || root.dataset.finished === "true"; }
  log.addEventListener("scroll", () => {
    following = atBottom() && lastPane()?.dataset.hasAfter !== "true";
    showJump();
  }, { passive: true });
  jump.addEventListener("click", async () => {
    const pane = lastPane();
    if (pane && pane.dataset.hasAfter === "true") {
      const window = await fetchJSON(`${base}/window?${new URLSearchParams({ step: pane.dataset.step })}`);
      replaceRows(pane, window);
    }
    if (pane) pane.closest("details").open = true;
    following = true;
    log.scrollTop = log.scrollHeight;
    showJump();
  });
  const lastPane = () => [...log.querySelectorAll(".lines")].at(-1);

  // --- Announcements (the log itself is not a live region) -------------------------------------------
  let pendingLines = 0;
  let announceTimer = null;
  function announce(text) { status.textContent = text; }
  function countNewLines(count) {
    pendingLines += count;
    if (announceTimer) return;
    announceTimer = setTimeout(() => {
      announce(`${pendingLines} new line${pendingLines === 1 ? "" : "s"}`);
      pendingLines = 0;
      announceTimer = null;
    }, 3000);
  }

  // --- Live lines ----------------------------------------------------------------------------------
  if (root.dataset.finished === "true") return;
  let queue = new Map();
  let scheduled = false;

  function paneFor(step) {
    let pane = paneOf(step);
    if (pane) return pane;
    log.querySelector(":scope > .empty")?.remove();
    const details = document.createElement("details");
    details.className = "step";
    details.open = true;
    details.dataset.step = step;
    const summary = document.createElement("summary");
    const name = document.createElement("span");
    name.className = "step-name";
    name.textContent = step;
    summary.append(name);
    pane = document.createElement("div");
    pane.className = "lines";
    pane.dataset.step = step;
    pane.dataset.hasBefore = "false";
    pane.dataset.hasAfter = "false";
    const rows = document.createElement("div");
    rows.className = "rows";
    pane.append(rows);
    details.append(summary, pane);
    log.append(details);
    return pane;
  }

  function flush() {
    scheduled = false;
    for (const [step, batch] of queue) {
      const pane = paneFor(step);
      if (pane.dataset.hasAfter === "true") continue; // the user is reading an earlier window
      rowsOf(pane).insertAdjacentHTML("beforeend", batch.html);
      pane.dataset.last = String(batch.last);
      // Following shows the newest lines: a running step rendered folded (no lines yet) opens.
      if (following) pane.closest("details").open = true;
      if (!pane.dataset.first) pane.dataset.first = rowsOf(pane).firstElementChild?.dataset.seq ?? "";
      trim(pane, "bottom");
    }
    queue = new Map();
    if (following) log.scrollTop = log.scrollHeight;
    showJump();
  }

  const source = new EventSource(`${base}/live?after_seq=${root.dataset.highestSeq}`);
  source.addEventListener("lines", (event) => {
    const data = JSON.parse(event.data);
    const pane = paneOf(data.step);
    // A resumed stream never repeats a line already shown.
    if (pane && number(pane.dataset.last) !== null && data.last_seq <= number(pane.dataset.last)) return;
    const batch = queue.get(data.step) ?? { html: "", last: 0 };
    batch.html += data.html;
    batch.last = data.last_seq;
    queue.set(data.step, batch);
    countNewLines((data.html.match(/class="ln/g) || []).length);
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(flush);
    }
  });
  source.addEventListener("status", (event) => {
    const data = JSON.parse(event.data);
    const badge = document.querySelector("#execution-status .badge");
    if (badge) {
      badge.textContent = data.status.toLowerCase();
      badge.className = `badge status-${data.status.toLowerCase()}`;
    }
    if (["SUCCESS", "FAILED", "STOPPED", "ERROR"].includes(data.status)) {
      source.close();
      root.dataset.finished = "true";
      flush();
      announce(`Execution finished: ${data.status}`);
      // Nothing to keep on a page without lines: load it again for the final facts, reason and attempts.
      if (!log.querySelector(".ln")) {
        location.reload();
        return;
      }
      // "Stop" becomes "Run again" (the same form, its CSRF token included).
      const stop = document.querySelector("form[action$='/stop']");
      if (stop) {
        stop.action = stop.action.replace(/\/stop$/, "/rerun");
        const button = stop.querySelector("button");
        button.textContent = "Run again";
        button.classList.remove("danger");
      }
    }
  });
}
