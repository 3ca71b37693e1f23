"""The generated UI in headless Chromium (Debian's `chromium` with `chromium-driver`, driven
by Selenium), served by uvicorn: sign in, create a deal (a validation error first), filter
the list, move a card on the board, see a refused transition. Screenshots are saved under
`CSPEC_TEST_ARTEFACTS` when set, else the test's temporary folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_generator_ui import APP, App, project, serve  # noqa: F401  (fixtures)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(DRIVER).exists()),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium-driver); "
           "CI installs them")

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.expected_conditions import staleness_of  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def app(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:  # noqa: F811
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'ui.db'}"
    yield from serve(project, url)


@pytest.fixture(scope="module")
def server(app: App, project: Path) -> Iterator[str]:  # noqa: F811
    port = free_port()
    database = app.modules["session"].engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": str(database), "PYTHONPATH": str(project)}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", f"{APP}.main:app", "--port", str(port),
         "--host", "127.0.0.1"], cwd=project, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
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
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def artefacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CSPEC_TEST_ARTEFACTS") or tmp_path) / "ui-browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER),
                              options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def click_through(driver: Any, element: Any) -> None:
    """Click a link or a form's button and wait until the next page has replaced this one.

    A click returns before the navigation it starts; without the wait, the next lookup can
    find the old page's element (its `h1`, say) and then fail on it as stale. While the
    page loads, Chromium may answer that the node is not in the document: asked again.
    """
    element.click()
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
        staleness_of(element))


def sign_in(driver: Any, base: str, token: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/ui/deals")
    assert "/ui/sign-in" in driver.current_url
    driver.find_element(By.ID, "f-token").send_keys(token)
    click_through(driver, driver.find_element(By.CSS_SELECTOR, "form.card button[type=submit]"))
    assert driver.current_url.endswith("/ui/deals")


def test_sign_in_create_filter_move_and_refuse(app: App, server: str, browser: Any,
                                               artefacts: Path) -> None:
    driver = browser
    shot, find = driver.save_screenshot, driver.find_element
    stage_name = f"Stage {uuid.uuid4().hex[:6]}"
    with httpx.Client(base_url=server, headers={
            "Authorization": f"Bearer {app.tokens['a:owner']}"}) as api:
        assert api.post("/v1/create-stage", json={"name": stage_name}).status_code == 201

    sign_in(driver, server, app.tokens["a:owner"])
    shot(str(artefacts / "01-list.png"))
    assert find(By.TAG_NAME, "h1").text == "Deals"

    click_through(driver, find(By.LINK_TEXT, "New deal"))
    find(By.ID, "f-amount").send_keys("-1")
    click_through(driver, find(By.CSS_SELECTOR, "form.card button[type=submit]"))
    assert "The form has" in find(By.CSS_SELECTOR, ".summary h2").text
    assert find(By.ID, "f-title").get_attribute("aria-invalid") == "true"
    shot(str(artefacts / "02-validation.png"))

    title = f"Browser deal {uuid.uuid4().hex[:6]}"
    find(By.ID, "f-title").send_keys(title)
    amount = find(By.ID, "f-amount")
    amount.clear()
    amount.send_keys("250")
    Select(find(By.ID, "f-stage")).select_by_visible_text(stage_name)
    click_through(driver, find(By.CSS_SELECTOR, "form.card button[type=submit]"))
    assert find(By.TAG_NAME, "h1").text == title
    assert find(By.CSS_SELECTOR, ".flash").text == "Saved."
    shot(str(artefacts / "03-created.png"))

    driver.get(f"{server}/ui/deals")
    find(By.ID, "filter-q").send_keys(title)
    Select(find(By.ID, "filter-status")).select_by_visible_text("open")
    click_through(driver, find(By.CSS_SELECTOR, "form[role=search] button"))
    rows = driver.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == 1 and title in rows[0].text
    shot(str(artefacts / "04-filtered.png"))

    driver.get(f"{server}/ui/pipeline")
    card = find(By.XPATH, f"//article[.//a[text()='{title}']]")
    Select(card.find_element(By.TAG_NAME, "select")).select_by_visible_text("won")
    click_through(driver, card.find_element(By.TAG_NAME, "button"))
    assert find(By.CSS_SELECTOR, ".flash").text == f"Moved {title}."
    won = find(By.XPATH, "//section[.//h2[starts-with(normalize-space(), 'won')]]")
    assert title in won.text
    shot(str(artefacts / "05-moved.png"))

    card = find(By.XPATH, f"//article[.//a[text()='{title}']]")
    Select(card.find_element(By.TAG_NAME, "select")).select_by_visible_text("lost")
    click_through(driver, card.find_element(By.TAG_NAME, "button"))
    refused = find(By.CSS_SELECTOR, ".flash.error")
    assert refused.text == "No transition of DealFlow leads from won to lost."
    assert refused.get_attribute("role") == "alert"
    shot(str(artefacts / "06-refused.png"))

    sign_in(driver, server, app.tokens["a:member"])
    click_through(driver, find(By.LINK_TEXT, title))
    assert not driver.find_elements(By.XPATH, "//form//button[text()='Reopen']")
    shot(str(artefacts / "07-member-detail.png"))
    driver.get(f"{server}/ui/pipeline")
    card = find(By.XPATH, f"//article[.//a[text()='{title}']]")
    Select(card.find_element(By.TAG_NAME, "select")).select_by_visible_text("open")
    click_through(driver, card.find_element(By.TAG_NAME, "button"))
    assert find(By.CSS_SELECTOR, ".flash.error").text == "You are not allowed to do this."
    shot(str(artefacts / "08-member-refused.png"))
    assert sorted(p.name for p in artefacts.iterdir()) == [
        "01-list.png", "02-validation.png", "03-created.png", "04-filtered.png",
        "05-moved.png", "06-refused.png", "07-member-detail.png", "08-member-refused.png"]
