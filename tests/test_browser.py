"""A person's visit, in headless Chromium: search, click a facet, open a document, look at it.

Needs Debian's chromium and chromium-driver (./test.sh installs them in CI); skipped with the reason
when they are absent. Screenshots land in tests/screenshots/ (not committed; $KB_SCREENSHOTS to put
them elsewhere) for a human to look at: the search at 1280 px, a facet, a document, the phone
layout (390 px) with the filters closed and open, and a timeline over seventy years at both widths.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

SCREENSHOTS = Path(os.environ.get("KB_SCREENSHOTS") or Path(__file__).parent / "screenshots")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="headless browser test needs chromium and chromedriver (apt-get install chromium chromium-driver)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(index_dir):
    from waitress.server import create_server

    from web import create_app

    app = create_app({"KB_INDEX": str(index_dir)})
    port = _free_port()
    httpd = create_server(app, host="127.0.0.1", port=port, threads=4)
    thread = threading.Thread(target=httpd.run, daemon=True)
    thread.start()
    return httpd, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def server(samples_index):
    httpd, url = _serve(samples_index.index_dir)
    yield url
    httpd.close()


@pytest.fixture(scope="module")
def wide_server(tmp_path_factory):
    """Documents from 1954 to 2023: a timeline of seventy bars, labels at both edges."""
    from support import ingest_paths

    docs = tmp_path_factory.mktemp("wide-years")
    for year in (1954, 1955, 1963, 1978, 1982, 1990, 1999, 2005, 2010, 2016, 2020, 2023):
        (docs / f"r{year}.txt").write_text(f"{year}年乡村振兴工作报告\n\n本年度农村工作和乡村振兴持续推进。\n", encoding="utf-8")
        (docs / f"r{year}.txt.meta.json").write_text(json.dumps({"year": year}), encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("wide-index")
    assert ingest_paths([docs], index_dir).count("added") == 12
    httpd, url = _serve(index_dir)
    yield url
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


def _until(browser, condition, seconds: float = 20):
    """Wait for a page the browser is navigating to (the condition holds there, not on the page before)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, seconds, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(lambda _: condition())


def test_search_click_facet_open_document(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    SCREENSHOTS.mkdir(exist_ok=True)
    browser.get(server + "/")
    assert browser.find_element(By.CSS_SELECTOR, "a.brand").text == "文档知识库"
    box = browser.find_element(By.ID, "q")
    box.send_keys("乡村振兴")
    box.send_keys(Keys.ENTER)
    # Enter starts a navigation that WebDriver does not wait for (a loaded machine read the old page)
    _until(browser, lambda: "乡村振兴" in browser.find_element(By.ID, "results-heading").text)
    heading = browser.find_element(By.ID, "results-heading").text
    assert "“乡村振兴”的检索结果" in heading
    total = int(heading.split("共")[1].split("篇")[0])
    marks = browser.find_elements(By.CSS_SELECTOR, ".hit .snippet mark")
    from kb.analysis import normalize

    assert marks and all(normalize(m.get_attribute("textContent")) == "乡村振兴" for m in marks)  # 鄉村振興 too
    browser.save_screenshot(str(SCREENSHOTS / "1-search.png"))

    # a facet: 县区 › 祁县
    browser.find_element(By.XPATH, "//section[h3='县区']//a[.//span[@class='value' and text()='祁县']]").click()
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".chips a"))
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
    _until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".fulltext"))
    assert browser.find_element(By.TAG_NAME, "h1").text == title
    assert browser.find_elements(By.CSS_SELECTOR, ".fulltext mark#m1")
    assert "跳到第一处匹配" in browser.find_element(By.CSS_SELECTOR, ".actions").text
    assert browser.find_element(By.LINK_TEXT, "下载原始文件").get_attribute("href").endswith("/original")
    assert browser.find_elements(By.CSS_SELECTOR, ".similar li")
    browser.save_screenshot(str(SCREENSHOTS / "3-document.png"))


LABELS_JS = """
const figure = document.querySelector('figure.timeline').getBoundingClientRect();
return {figure: [figure.left, figure.right], viewport: document.documentElement.clientWidth,
        labels: [...document.querySelectorAll('figure.timeline svg text')]
          .filter(t => getComputedStyle(t).display !== 'none')
          .map(t => { const r = t.getBoundingClientRect();
                      return {text: t.textContent, left: r.left, right: r.right, height: r.height,
                              font: parseFloat(getComputedStyle(t).fontSize)}; })};
"""


def _check_timeline_labels(browser, expect_first: str, expect_last: str) -> list[str]:
    """The year labels shown: readable (a real font size of 10 px or more, whatever the chart's
    width), inside the chart (nothing cut at its edges), not overlapping; the first and last years
    among them."""
    got = browser.execute_script(LABELS_JS)
    labels = sorted(got["labels"], key=lambda label: label["left"])
    assert len(labels) >= 2, got
    left, right = got["figure"]
    for label in labels:
        assert label["font"] >= 10 and label["height"] >= 10, label  # was ~5 px on a phone
        assert left - 0.5 <= label["left"] and label["right"] <= right + 0.5, (label, got["figure"])  # not cut
        assert len(label["text"]) == 4, label
    for before, after in zip(labels, labels[1:]):
        assert before["right"] + 4 <= after["left"], (before, after)  # apart, readable
    assert labels[0]["text"] == expect_first and labels[-1]["text"] == expect_last
    return [label["text"] for label in labels]


def test_phone_layout_filters_reachable_from_the_top(server, browser):
    from selenium.webdriver.common.by import By

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(390, 844)
    try:
        browser.get(server + "/?q=乡村振兴")
        results = browser.find_element(By.CSS_SELECTOR, "section.results")
        filters = browser.find_element(By.CSS_SELECTOR, "aside.facets")
        summary = filters.find_element(By.CSS_SELECTOR, "h2.filters-heading label")
        toggle = filters.find_element(By.ID, "filters-toggle")
        # the filters come first, closed: one line above the results, on the first screen
        assert summary.is_displayed() and "筛选" in summary.text
        assert summary.location["y"] + summary.size["height"] <= results.location["y"]
        assert summary.location["y"] + summary.size["height"] < 844
        assert not toggle.is_selected()
        qixian = filters.find_element(By.XPATH, ".//section[h3='县区']//a[.//span[@class='value' and text()='祁县']]")
        assert not qixian.is_displayed()
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        _check_timeline_labels(browser, "2018", "2025")
        browser.save_screenshot(str(SCREENSHOTS / "4-phone.png"))

        summary.click()  # a tap opens them: no script involved
        assert toggle.is_selected() and qixian.is_displayed()
        browser.save_screenshot(str(SCREENSHOTS / "5-phone-filters-open.png"))
        qixian.click()
        chips = [c.text for c in browser.find_elements(By.CSS_SELECTOR, ".chips a")]
        assert any(c.startswith("县区: 祁县") for c in chips)
        summary = browser.find_element(By.CSS_SELECTOR, "h2.filters-heading label")
        assert "已选 1 项" in summary.text  # closed again on the next page, and says a filter is on
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    finally:
        browser.set_window_size(1280, 1400)


def test_wide_screen_filters_are_an_open_sidebar(server, browser):
    from selenium.webdriver.common.by import By

    browser.set_window_size(1280, 1400)
    browser.get(server + "/?q=乡村振兴")
    aside = browser.find_element(By.CSS_SELECTOR, "aside.facets")
    results = browser.find_element(By.CSS_SELECTOR, "section.results")
    assert aside.location["x"] + aside.size["width"] <= results.location["x"]  # beside the results
    links = aside.find_elements(By.CSS_SELECTOR, ".facet li a")
    assert links and all(link.is_displayed() for link in links[:5])  # shown without opening anything
    assert browser.find_element(By.CSS_SELECTOR, "form.years input#from").is_displayed()
    assert _check_timeline_labels(browser, "2018", "2025") == [str(y) for y in range(2018, 2026)]


def test_timeline_of_seventy_years_readable_at_both_widths(wide_server, browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        for width, name in ((1280, "6-timeline-1280.png"), (800, None), (390, "7-timeline-390.png")):
            browser.set_window_size(width, 900)
            browser.get(wide_server + "/?q=乡村振兴")
            shown = _check_timeline_labels(browser, "1954", "2023")  # were cut: "954", "202"
            assert len(shown) >= (6 if width >= 1000 else 3), shown
            if name:
                browser.find_element("css selector", "figure.timeline").screenshot(str(SCREENSHOTS / name))
    finally:
        browser.set_window_size(1280, 1400)


def test_keyboard_reaches_the_skip_link(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.set_window_size(1280, 1400)
    browser.get(server + "/?q=民营经济")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("class") == "skip"


def test_a_slow_upload_follows_itself_until_done(tmp_path, browser):
    """An editor uploads while another ingest holds the index: the page says it is being added and
    refreshes itself; when the index is free the results are there, without a click."""
    from selenium.webdriver.common.by import By
    from waitress.server import create_server

    from kb import index as kbindex
    from support import ingest_paths
    from web import create_app

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("甲报告\n\n内容甲。\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    assert ingest_paths([docs], index_dir).count("added") == 1
    app = create_app({"KB_INDEX": str(index_dir), "ADMIN_TOKEN": "s3cret", "UPLOAD_WAIT_SECONDS": 0.2})
    port = _free_port()
    httpd = create_server(app, host="127.0.0.1", port=port, threads=1)  # the shipped one thread
    threading.Thread(target=httpd.run, daemon=True).start()
    upload = tmp_path / "乙报告.txt"
    upload.write_text("关于乙的报告\n\n乙县防汛救灾工作。\n", encoding="utf-8")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    writer = kbindex.writer(kbindex.open_index(index_dir))  # another ingest is running
    try:
        browser.get(f"http://127.0.0.1:{port}/upload")
        browser.find_element(By.ID, "files").send_keys(str(upload))
        browser.find_element(By.ID, "token").send_keys("s3cret")
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        _until(browser, lambda: "正在处理的上传" in browser.find_element(By.TAG_NAME, "main").text)
        assert "自动刷新" in browser.find_element(By.CSS_SELECTOR, "section.outcome").text
        browser.save_screenshot(str(SCREENSHOTS / "8-upload-waiting.png"))
    finally:
        writer.cancel()
    # the page refreshes itself every 3 s: the results come without anyone clicking
    _until(browser, lambda: "已添加" in browser.find_element(By.CSS_SELECTOR, "section.outcome").text, seconds=30)
    row = browser.find_element(By.CSS_SELECTOR, "tr.status-added")
    assert "乙报告.txt" in row.text and row.find_element(By.TAG_NAME, "a").get_attribute("href").startswith(
        f"http://127.0.0.1:{port}/doc/")
    browser.save_screenshot(str(SCREENSHOTS / "9-upload-done.png"))
    browser.set_window_size(390, 844)  # on a phone the outcome is on the first screen, above the form
    try:
        outcome = browser.find_element(By.CSS_SELECTOR, "section.outcome")
        assert outcome.location["y"] + outcome.size["height"] < 844
        # no sideways scrolling (the list of file kinds ".md、.html、.docx…" has no break opportunity)
        assert browser.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        browser.save_screenshot(str(SCREENSHOTS / "10-upload-done-phone.png"))
    finally:
        browser.set_window_size(1280, 1400)
        httpd.close()
