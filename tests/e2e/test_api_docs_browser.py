"""The interactive API docs in a real browser (Debian's chromium, headless), through nginx.

Swagger UI at /api/docs/ renders and lists the operations; Authorize takes a real token and
"Try it out" on GET /api/data/ answers 200. Redoc at /api/redoc/ renders too. Neither page
loads anything from outside the stack: every request the browser makes is recorded (Chrome's
performance log) and must go to the stack's own origin. Screenshots of the pages are kept in
tests/e2e/artifacts/ (docs/api-docs.png, shown in the README, is a copy of api-docs.png).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WAIT = 30

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="chromium and chromium-driver are not installed (apt-get install chromium "
    "chromium-driver)",
)


@pytest.fixture(scope="module")
def browser(stack, monkeypatch_module):
    # Were selenium-manager ever consulted, it must not go online for a driver or a browser.
    monkeypatch_module.setenv("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    # Explicit binary and driver: selenium-manager has nothing to look up or download.
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # the suite runs as root, where chromium's sandbox cannot start
        "--disable-dev-shm-usage",  # Docker-sized /dev/shm is too small for it
        "--window-size=1280,1000",
        "--no-first-run",
        "--disable-background-networking",  # no update or safe-browsing calls of its own
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    # The prod profile serves the self-signed certificate of `make cert`; chromium has no
    # per-run trust store to add it to, so this browser accepts it (TLS has its own tests).
    options.accept_insecure_certs = bool(stack.ca_file)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def requested_urls(driver) -> list[str]:
    """Every URL the page sent a request to since the last call (the log drains); requests
    the page's Content-Security-Policy blocked never leave the browser and are left out."""
    sent, blocked = {}, set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message["params"]
        if message["method"] == "Network.requestWillBeSent":
            sent[params["requestId"]] = params["request"]["url"]
        elif message["method"] == "Network.loadingFailed" and params.get("blockedReason"):
            blocked.add(params["requestId"])
    return [url for request_id, url in sent.items() if request_id not in blocked]


def outside(urls: list[str], base_url: str) -> list[str]:
    origin = urlsplit(base_url)
    return [
        url
        for url in urls
        if urlsplit(url).scheme not in ("data", "blob")
        and (urlsplit(url).scheme, urlsplit(url).netloc) != (origin.scheme, origin.netloc)
    ]


def wait_for(driver, css: str, *, visible: bool = True):
    condition = ec.visibility_of_element_located if visible else ec.presence_of_element_located
    return WebDriverWait(driver, WAIT).until(condition((By.CSS_SELECTOR, css)))


def test_swagger_ui_lists_the_operations_and_tries_one_with_a_token(browser, stack, token, api):
    label = "e2e-docs"
    assert api.post("/api/data/", json={"text": "Shown in the docs", "label": label}).ok
    requested_urls(browser)  # drain anything from earlier pages

    browser.get(f"{stack.base_url}/api/docs/")

    wait_for(browser, ".swagger-ui .information-container .title")
    assert "textclf API" in browser.find_element(By.CSS_SELECTOR, ".title").text
    paths = {
        element.get_attribute("data-path")
        for element in browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    }
    assert {"/api/data/", "/api/predict/", "/api/data/import/", "/api/train/"} <= paths
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "api-docs.png"))  # the page as a consumer finds it

    # Authorize: the tokenAuth scheme takes the header value as typed.
    browser.find_element(By.CSS_SELECTOR, ".auth-wrapper .authorize").click()
    wait_for(browser, ".modal-ux")
    scheme = browser.find_element(
        By.XPATH, "//div[contains(@class, 'auth-container')][.//h4/code[text()='tokenAuth']]"
    )
    scheme.find_element(By.CSS_SELECTOR, "input[type=text]").send_keys(f"Token {token}")
    scheme.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper .authorize").click()
    browser.find_element(By.CSS_SELECTOR, ".modal-ux .close-modal").click()

    # GET /api/data/: try it out, filtered to the row added above, and execute.
    operation = browser.find_element(By.CSS_SELECTOR, "#operations-data-data_list")
    operation.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait_for(browser, "#operations-data-data_list .try-out__btn").click()
    label_input = wait_for(browser, "#operations-data-data_list tr[data-param-name=label] input")
    label_input.send_keys(label)
    wait_for(browser, "#operations-data-data_list .execute").click()

    status = wait_for(
        browser, "#operations-data-data_list .live-responses-table .response .response-col_status"
    )
    body = browser.find_element(
        By.CSS_SELECTOR, "#operations-data-data_list .live-responses-table .microlight"
    )
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", status)
    browser.save_screenshot(str(ARTIFACTS / "api-docs-try-it-out.png"))

    assert status.text.strip() == "200"
    assert "Shown in the docs" in body.text
    urls = requested_urls(browser)
    assert f"{stack.base_url}/api/data/?label={label}" in urls
    assert outside(urls, stack.base_url) == []


def test_redoc_renders_the_schema_from_the_stack_alone(browser, stack):
    requested_urls(browser)

    browser.get(f"{stack.base_url}/api/redoc/")

    heading = wait_for(browser, ".api-info h1")
    assert "textclf API" in heading.text
    WebDriverWait(browser, WAIT).until(
        lambda driver: "Import labelled texts from a CSV or XLSX file" in driver.page_source
    )
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "api-redoc.png"))
    assert outside(requested_urls(browser), stack.base_url) == []
