"""Each example's committed generated UI in headless Chromium (Debian's `chromium` with
`chromium-driver`, driven by Selenium), served by uvicorn on SQLite: sign in, create a
record, filter the list, move a card where the example has a board, and see a member
refused. One test per example; screenshots are saved under `CSPEC_TEST_ARTEFACTS` when set,
else the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.examples_app import RunningApp, example_app, migrate, running_app
from tests.test_ui_browser import (  # noqa: F401  (browser: a fixture)
    CHROMIUM,
    DRIVER,
    browser,
    click_through,
    free_port,
)

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(DRIVER).exists()),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium-driver); "
           "CI installs them")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402


@dataclass
class Served:
    """An example's app under uvicorn at `base`, and the same app in-process (tokens, API)."""

    base: str
    app: RunningApp
    shots: Path

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@contextmanager
def served(name: str, tmp_path: Path) -> Iterator[Served]:
    """Copy, migrate and serve the example `name`; its members' tokens from `running_app`."""
    source, package = example_app(name)
    folder = tmp_path / "app"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__"))
    url = f"sqlite:///{tmp_path / 'ui.db'}"
    migrate(folder, package, url)
    shots = Path(os.environ.get("CSPEC_TEST_ARTEFACTS") or tmp_path) / f"browser-{name}"
    shots.mkdir(parents=True, exist_ok=True)
    with running_app(folder, package, url) as app:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", f"{package}.main:app", "--port", str(port),
             "--host", "127.0.0.1"], cwd=folder, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(folder)})
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/ui/sign-in").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                time.sleep(0.1)
            yield Served(base, app, shots)
        finally:
            process.terminate()
            process.wait(timeout=30)


def sign_in(driver: Any, site: Served, who: str, page: str) -> None:
    """Sign in as `who` ("a:owner") from `page`, which redirects to the sign-in form."""
    driver.delete_all_cookies()
    driver.get(site.url(page))
    assert "/ui/sign-in" in driver.current_url
    driver.find_element(By.ID, "f-token").send_keys(site.app.tokens[who])
    click_through(driver, driver.find_element(By.CSS_SELECTOR, "form.card button[type=submit]"))
    assert driver.current_url.endswith(page)


def fill(driver: Any, values: dict[str, str], selects: dict[str, str] | None = None) -> None:
    """Type into the form's fields (`f-<name>`), pick options, and submit it."""
    for field, value in values.items():
        element = driver.find_element(By.ID, f"f-{field}")
        element.clear()
        element.send_keys(value)
    for field, option in (selects or {}).items():
        Select(driver.find_element(By.ID, f"f-{field}")).select_by_visible_text(option)
    click_through(driver, driver.find_element(By.CSS_SELECTOR, "form.card button[type=submit]"))


def filtered(driver: Any, site: Served, page: str, q: str,
             selects: dict[str, str]) -> list[str]:
    """The rows of `page` filtered by the search box and the filters' visible options."""
    driver.get(site.url(page))
    driver.find_element(By.ID, "filter-q").send_keys(q)
    for name, option in selects.items():
        Select(driver.find_element(By.ID, f"filter-{name}")).select_by_visible_text(option)
    click_through(driver, driver.find_element(By.CSS_SELECTOR, "form[role=search] button"))
    return [row.text for row in driver.find_elements(By.CSS_SELECTOR, "tbody tr")]


def move_card(driver: Any, site: Served, board: str, title: str, to: str) -> None:
    """On the board page, move the card titled `title` to the column `to`."""
    driver.get(site.url(board))
    card = driver.find_element(By.XPATH, f"//article[.//a[text()='{title}']]")
    Select(card.find_element(By.TAG_NAME, "select")).select_by_visible_text(to)
    click_through(driver, card.find_element(By.TAG_NAME, "button"))


def column(driver: Any, name: str) -> Any:
    """The board's column `name`."""
    return driver.find_element(
        By.XPATH, f"//section[.//h2[starts-with(normalize-space(), '{name}')]]")


def flash(driver: Any, error: bool = False) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, ".flash.error" if error else ".flash").text)


REFUSED = "You are not allowed to do this."


def test_saas_projects_in_the_browser(browser: Any, tmp_path: Path) -> None:  # noqa: F811
    with served("saas-boilerplate", tmp_path) as site:
        driver, find = browser, browser.find_element
        sign_in(driver, site, "a:admin", "/ui/projects")
        assert find(By.TAG_NAME, "h1").text == "Projects"
        driver.save_screenshot(str(site.shots / "01-list.png"))

        click_through(driver, find(By.LINK_TEXT, "New project"))
        name = f"Launch {uuid.uuid4().hex[:6]}"
        fill(driver, {"name": name}, {"visibility": "private"})
        assert find(By.TAG_NAME, "h1").text == name
        assert flash(driver) == "Saved."
        driver.save_screenshot(str(site.shots / "02-created.png"))

        rows = filtered(driver, site, "/ui/projects", name, {"visibility": "private"})
        assert len(rows) == 1 and name in rows[0] and "Admin" in rows[0]
        assert filtered(driver, site, "/ui/projects", name, {"status": "archived"}) == []
        driver.save_screenshot(str(site.shots / "03-filtered.png"))

        sign_in(driver, site, "a:member", "/ui/projects")
        click_through(driver, find(By.LINK_TEXT, name))
        assert not driver.find_elements(By.XPATH, "//form//button[text()='Archive']")
        driver.get(site.url("/ui/project-form"))
        fill(driver, {"name": f"Mine {uuid.uuid4().hex[:6]}"})
        summary = find(By.CSS_SELECTOR, ".summary")
        assert "The form has 1 problem" in summary.text and REFUSED in summary.text
        driver.save_screenshot(str(site.shots / "04-member-refused.png"))
        sign_in(driver, site, "b:owner", "/ui/projects")
        assert name not in find(By.TAG_NAME, "main").text


def test_crm_deals_and_the_pipeline_board_in_the_browser(browser: Any,  # noqa: F811
                                                         tmp_path: Path) -> None:
    with served("crm-pipeline", tmp_path) as site:
        driver, find = browser, browser.find_element
        company = f"Acme {uuid.uuid4().hex[:6]}"
        site.app.ok("a:owner", "/v1/create-company", {"name": company}, expect=201)
        sign_in(driver, site, "a:owner", "/ui/deals")
        assert find(By.TAG_NAME, "h1").text == "Deals"
        driver.save_screenshot(str(site.shots / "01-list.png"))

        click_through(driver, find(By.LINK_TEXT, "New deal"))
        fill(driver, {"amount": "-1"})
        assert find(By.ID, "f-title").get_attribute("aria-invalid") == "true"
        title = f"Browser deal {uuid.uuid4().hex[:6]}"
        fill(driver, {"title": title, "amount": "2500"}, {"company": company})
        assert find(By.TAG_NAME, "h1").text == title
        assert flash(driver) == "Saved."
        driver.save_screenshot(str(site.shots / "02-created.png"))

        rows = filtered(driver, site, "/ui/deals", title, {"stage": "lead", "company": company})
        assert len(rows) == 1 and title in rows[0] and company in rows[0]
        assert filtered(driver, site, "/ui/deals", title, {"stage": "won"}) == []
        driver.save_screenshot(str(site.shots / "03-filtered.png"))

        move_card(driver, site, "/ui/pipeline", title, "qualified")
        assert flash(driver) == f"Moved {title}."
        assert title in column(driver, "qualified").text
        assert title not in column(driver, "lead").text
        driver.save_screenshot(str(site.shots / "04-moved.png"))

        sign_in(driver, site, "a:member", "/ui/pipeline")
        move_card(driver, site, "/ui/pipeline", title, "proposal")
        assert flash(driver, error=True) == REFUSED
        assert title in column(driver, "qualified").text
        driver.save_screenshot(str(site.shots / "05-member-refused.png"))
        assert site.app.ok("a:owner", "/v1/list-deals", q=title)["items"][0]["stage"] \
            == "qualified"


def test_console_tools_and_the_run_board_in_the_browser(browser: Any,  # noqa: F811
                                                        tmp_path: Path) -> None:
    """The console's UI lists and inspects (tools, agents and runs are created over the
    API, as the agent host does); a run's card moves on the board."""
    with served("agent-console", tmp_path) as site:
        driver, find, app = browser, browser.find_element, site.app
        tag = uuid.uuid4().hex[:6]
        tool = app.ok("a:admin", "/v1/create-tool", {
            "name": f"lookup_{tag}", "inputSchema": {"type": "object"}, "outputSchema": {},
            "auth": "api_key"}, expect=201)
        agent = app.ok("a:admin", "/v1/create-agent", {
            "key": f"triage_{tag}", "name": f"Triage {tag}", "model": "openai/gpt-4o-mini"},
            expect=201)
        app.ok("a:admin", "/v1/agent-lifecycle/activate", {"id": agent["id"]})
        run = app.ok("a:member", "/v1/create-run", {"agent": agent["id"], "input": {}},
                     expect=201)

        sign_in(driver, site, "a:member", "/ui/tools")
        assert find(By.TAG_NAME, "h1").text == "Tools"
        rows = filtered(driver, site, "/ui/tools", tag, {"auth": "api key"})
        assert len(rows) == 1 and tool["name"] in rows[0]
        driver.save_screenshot(str(site.shots / "01-tools-filtered.png"))
        click_through(driver, find(By.LINK_TEXT, tool["name"]))
        assert find(By.TAG_NAME, "h1").text == tool["name"]
        driver.save_screenshot(str(site.shots / "02-tool.png"))

        driver.get(site.url("/ui/run-board"))
        card = f".//article[.//a[contains(@href, '{run['id']}')]]"
        assert column(driver, "queued").find_elements(By.XPATH, card)
        Select(find(By.XPATH, f"{card}//select")).select_by_visible_text("running")
        click_through(driver, find(By.XPATH, f"{card}//button"))
        assert flash(driver, error=True) == REFUSED  # starting a run is the runtime's
        driver.save_screenshot(str(site.shots / "03-member-refused.png"))

        sign_in(driver, site, "a:admin", "/ui/run-board")
        Select(find(By.XPATH, f"{card}//select")).select_by_visible_text("running")
        click_through(driver, find(By.XPATH, f"{card}//button"))
        assert flash(driver).startswith("Moved")
        assert column(driver, "running").find_elements(By.XPATH, card)
        assert not column(driver, "queued").find_elements(By.XPATH, card)
        driver.save_screenshot(str(site.shots / "04-moved.png"))
        assert app.ok("a:member", "/v1/get-run", id=run["id"])["status"] == "running"
