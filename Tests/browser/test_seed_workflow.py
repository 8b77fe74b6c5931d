"""The seed workflow by clicking only: a key deployed with a one-time password, Bitbucket connected and
verified, a pipeline created with the form, its stack detected, its configuration previewed, the pull
request opened, a run triggered, and its live log followed to SUCCESS."""

from selenium.webdriver.support.ui import Select


def choose(select, text):
    """Selects the option of `select` whose label contains `text`."""
    choice = Select(select)
    labels = [option.text for option in choice.options]
    choice.select_by_visible_text(next(label for label in labels if text in label))


def test_the_seed_workflow_through_the_dashboard(admin, service, fake, sshd, runs):
    browser = admin

    # 1. A key, deployed to the sshd with the account's password (typed once, never stored).
    browser.get("/keys")
    browser.find("form[action='/keys/generate'] input[name=name]").send_keys("storefront deploy")
    browser.find("form[action='/keys/generate'] button[type=submit]").click()
    browser.wait().until(lambda driver: "notice=created" in driver.current_url)
    form = browser.find("form[action$='/deploy']")
    for name, value in (("host", "127.0.0.1"), ("port", str(sshd.port)), ("username", sshd.user),
                        ("password", sshd.password)):
        form.find_element("css selector", f"input[name={name}]").send_keys(value)
    form.find_element("css selector", "button[type=submit]").click()
    results = browser.wait(60).until(lambda driver: browser.find_all("section.results"))[0]
    assert "Deploy: done" in results.text, results.text

    # 2. Bitbucket: add the connection, then verify it.
    browser.get("/connections")
    form = browser.find("form[action='/connections']")
    for name, value in (("name", "storefront-acme"), ("workspace", "acme"), ("email", fake.email),
                        ("token", fake.token)):
        form.find_element("css selector", f"input[name={name}]").send_keys(value)
    form.find_element("css selector", "button[type=submit]").click()
    browser.wait().until(lambda driver: "storefront-acme" in browser.find("table.list").text)
    row = [r for r in browser.find_all("table.list tbody tr") if "storefront-acme" in r.text][0]
    row.find_element("css selector", "button[type=submit]").click()
    notice = browser.wait().until(lambda driver: browser.find_all("main p.notice, main p.error"))[0]
    assert "verified as" in notice.text and "error" not in notice.get_attribute("class"), notice.text

    # 3. The pipeline, with the form.
    browser.get("/pipelines")
    browser.find("a[href='/pipelines/new']").click()
    browser.wait_for("form[action='/pipelines']")
    browser.find("input[name=name]").send_keys("storefront")
    choose(browser.find("select[name=connection_id]"), "storefront-acme")
    browser.find("input[name=repo_slug]").send_keys("web")
    server = [label for label in browser.find_all("label.check") if f"{sshd.user}@127.0.0.1" in label.text][0]
    server.find_element("css selector", "input").click()
    choose(browser.find("select[name=ssh_key_id]"), "storefront deploy")
    browser.find("input[name=deploy_path]").send_keys("/srv/storefront")
    browser.find("form[action='/pipelines'] button[type=submit]").click()
    browser.wait().until(lambda driver: browser.find_all("#webhook-secret"))
    assert browser.find("h1").text.startswith("storefront")
    pipeline_path = browser.find("a[href$='/edit']").get_attribute("href").removeprefix(service.base)
    pipeline_path = pipeline_path.removesuffix("/edit")

    # 4. Detect (with its evidence), preview the generated files with their checks.
    browser.find("form[action$='/detect'] button").click()
    browser.wait().until(lambda driver: "Detected stack" in browser.find("main").text)
    assert "package.json" in browser.find("main").text
    browser.find("a[href$='?preview=1']").click()
    browser.wait().until(lambda driver: "Generated configuration" in browser.find("main").text)
    assert "bitbucket-pipelines.yml" in browser.find("main").text
    assert "DEPLOY_PATH" in browser.find("main").text or "/srv/storefront" in browser.find("main").text

    # 5. Open the pull request: the result links to it.
    browser.find("form[action$='/pull-request'] button[type=submit]").click()
    opened = browser.wait(30).until(lambda driver: [s for s in browser.find_all("section.results")
                                                    if "Pull request #" in s.text])[0]
    link = opened.find_element("css selector", "a").get_attribute("href")
    assert "/pull-requests/" in link, link

    # 6. Trigger from the pipeline page and follow the live log to SUCCESS.
    runs.script([{"name": "Build", "lines": ["npm ci", "built storefront"]},
                 {"name": "Deploy", "lines": ["deployed to /srv/storefront"]}])
    browser.get(pipeline_path)
    browser.find("form[action$='/trigger'] button[type=submit]").click()
    browser.wait().until(lambda driver: "/executions/" in driver.current_url)
    execution_id = int(browser.path().split("/")[2].split("?")[0])
    uuid = runs.uuid_of(execution_id)
    fake.command("advance", uuid=uuid)
    fake.command("append", uuid=uuid, step=0, text="live: storefront assets\n")
    browser.wait(30).until(lambda driver: "live: storefront assets" in browser.find("#log").text)
    fake.command("complete", uuid=uuid)
    browser.wait(30).until(lambda driver: browser.find("#execution-status .badge").text == "success")
    browser.wait(15).until(lambda driver: "deployed to /srv/storefront" in browser.find("#log").text)
