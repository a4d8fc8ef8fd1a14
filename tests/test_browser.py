"""A person's visit, in headless Chromium: search, click a facet, open a document, look at it.

Needs Debian's chromium and chromium-driver (./test.sh installs them in CI); skipped with the reason
when they are absent. Screenshots land in tests/screenshots/ (not committed) for a human to look at.
"""

from __future__ import annotations

import shutil
import socket
import threading
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).parent / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="headless browser test needs chromium and chromedriver (apt-get install chromium chromium-driver)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(samples_index):
    from waitress.server import create_server

    from web import create_app

    app = create_app({"KB_INDEX": str(samples_index.index_dir)})
    port = _free_port()
    httpd = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=httpd.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,1400", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_search_click_facet_open_document(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    SCREENSHOTS.mkdir(exist_ok=True)
    browser.get(server + "/")
    assert browser.find_element(By.CSS_SELECTOR, "a.brand").text == "文档知识库"
    box = browser.find_element(By.ID, "q")
    box.send_keys("乡村振兴")
    box.send_keys(Keys.ENTER)
    heading = browser.find_element(By.ID, "results-heading").text
    assert "“乡村振兴”的检索结果" in heading
    total = int(heading.split("共")[1].split("篇")[0])
    marks = browser.find_elements(By.CSS_SELECTOR, ".hit .snippet mark")
    from kb.analysis import normalize

    assert marks and all(normalize(m.get_attribute("textContent")) == "乡村振兴" for m in marks)  # 鄉村振興 too
    browser.save_screenshot(str(SCREENSHOTS / "1-search.png"))

    # a facet: 县区 › 祁县
    browser.find_element(By.XPATH, "//section[h3='县区']//a[.//span[@class='value' and text()='祁县']]").click()
    chips = [c.text for c in browser.find_elements(By.CSS_SELECTOR, ".chips a")]
    assert any(c.startswith("县区: 祁县") for c in chips)
    narrowed = int(browser.find_element(By.ID, "results-heading").text.split("共")[1].split("篇")[0])
    assert 1 <= narrowed <= total
    for hit in browser.find_elements(By.CSS_SELECTOR, ".hit .meta"):
        assert "祁县" in hit.text
    browser.save_screenshot(str(SCREENSHOTS / "2-facet.png"))

    # the timeline is there and its bars are links
    assert browser.find_elements(By.CSS_SELECTOR, "figure.timeline svg a rect.bar")

    # open the first document: title, metadata, highlighted text, jump link, similar documents
    first = browser.find_element(By.CSS_SELECTOR, ".hit h3 a")
    title = first.text
    first.click()
    assert browser.find_element(By.TAG_NAME, "h1").text == title
    assert browser.find_elements(By.CSS_SELECTOR, ".fulltext mark#m1")
    assert "跳到第一处匹配" in browser.find_element(By.CSS_SELECTOR, ".actions").text
    assert browser.find_element(By.LINK_TEXT, "下载原始文件").get_attribute("href").endswith("/original")
    assert browser.find_elements(By.CSS_SELECTOR, ".similar li")
    browser.save_screenshot(str(SCREENSHOTS / "3-document.png"))


def test_phone_width_and_keyboard(server, browser):
    from selenium.webdriver.common.by import By

    browser.set_window_size(390, 844)
    browser.get(server + "/?q=民营经济")
    results = browser.find_element(By.CSS_SELECTOR, "section.results")
    facets = browser.find_element(By.CSS_SELECTOR, "aside.facets")
    assert results.location["y"] < facets.location["y"]  # results first on a narrow screen
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 400  # no sideways scrolling
    browser.save_screenshot(str(SCREENSHOTS / "4-phone.png"))
    browser.set_window_size(1280, 1400)
    # the first Tab reaches the skip link
    from selenium.webdriver.common.keys import Keys

    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("class") == "skip"
