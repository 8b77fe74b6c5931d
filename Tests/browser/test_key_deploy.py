"""The key workflow through the key page: generate, deploy with a one-time password to a real sshd, test."""

import subprocess


def test_generate_and_deploy_a_key_with_a_one_time_password(admin, service, sshd):
    browser = admin
    browser.get("/keys")
    browser.find("form[action='/keys/generate'] input[name=name]").send_keys("web deploy key")
    browser.find("form[action='/keys/generate'] button[type=submit]").click()
    browser.wait().until(lambda driver: "/keys/" in driver.current_url and "notice=created" in driver.current_url)
    assert browser.find(".notice").text == "Key created."
    assert browser.find("h1").text.startswith("web deploy key")
    public_key = browser.find("#public-key").text.strip()
    assert public_key.startswith("ssh-ed25519 ")
    assert "Deployed nowhere yet." in browser.find("main").text

    # Deploy to the sshd with the account's password, typed once.
    form = browser.find("form[action$='/deploy']")
    form.find_element("css selector", "input[name=host]").send_keys("127.0.0.1")
    form.find_element("css selector", "input[name=port]").send_keys(str(sshd.port))
    form.find_element("css selector", "input[name=username]").send_keys(sshd.user)
    form.find_element("css selector", "input[name=password]").send_keys(sshd.password)
    form.find_element("css selector", "button[type=submit]").click()

    results = browser.wait(60).until(lambda driver: browser.find_all("section.results"))[0]
    assert "Deploy: done" in results.text, results.text
    assert f"{sshd.user}@127.0.0.1" in results.text
    assert sshd.password not in browser.driver.page_source
    # The password field is empty again: a one-time password is never rendered back.
    assert browser.find("form[action$='/deploy'] input[name=password]").get_attribute("value") == ""

    # The ledger row: the server, the login, the method, the state.
    rows = browser.find_all("table.list tbody tr")
    assert len(rows) == 1
    cells = [cell.text for cell in rows[0].find_elements("css selector", "td")]
    assert "127.0.0.1" in cells[0]
    assert sshd.user in cells[1]
    assert "password" in cells[2]
    assert cells[5] == "present", cells

    # On the server: the public key is in the user's authorized_keys, and it logs in.
    assert public_key.split()[1] in sshd.authorized_keys()

    # "Test login on every server": a checklist with the server passing.
    browser.find("form[action$='/test'] button[type=submit]").click()
    results = browser.wait(60).until(
        lambda driver: [r for r in browser.find_all("section.results") if "Test:" in r.text])[0]
    assert "Test: done" in results.text, results.text
    assert browser.find_all("section.results ul.checklist li.ok")
    rows = browser.find_all("table.list tbody tr")
    assert rows[0].find_elements("css selector", "td")[4].text.strip() not in ("", "—")

    # The key list shows the key in use.
    browser.get("/keys")
    row = [r for r in browser.find_all("table.list tbody tr") if "web deploy key" in r.text][0]
    assert "in use on 1" in row.text
