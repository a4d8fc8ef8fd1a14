"""A researcher's visit in headless Chromium: chart the query's terms from the search page, switch the
measure, read the chart on a phone, see what else a search looked for, collapse versions, open a
document's other version and compare the two, compare two checked hits.

Needs Debian's chromium and chromium-driver; skipped with the reason when they are absent.
Screenshots land in $KB_SCREENSHOTS (default tests/screenshots/, not committed): research-*.png.
"""

from __future__ import annotations

import json
import random

import pytest

from test_browser import CHROMIUM, DRIVER, SCREENSHOTS, _serve

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER),
                                reason="headless browser test needs chromium and chromedriver (apt-get install chromium chromium-driver)")

POOL = "国家机关社会组织公民依法履行职责保障权利义务管理服务监督检查处罚许可登记备案申请审批决定执行救济程序期限"


def _filler(seed: int, count: int) -> str:
    rng = random.Random(seed)
    return "\n".join("".join(rng.choice(POOL) for _ in range(22)) + "。" for _ in range(count))


@pytest.fixture(scope="module")
def research_server(tmp_path_factory):
    from support import ingest_paths

    docs = tmp_path_factory.mktemp("research-docs")
    for year in range(2012, 2025):
        poverty = max(0, 6 - abs(year - 2017))  # 脱贫攻坚 rises to 2017, then gives way
        revival = max(0, year - 2016)  # 乡村振兴 from 2017 on
        body = ("打赢脱贫攻坚战。" * poverty) + ("实施乡村振兴战略。" * revival) + ("发挥新乡贤作用。" if year >= 2019 else "")
        (docs / f"r{year}.txt").write_text(f"{year}年某县政府工作报告\n{body}\n{_filler(year, 8)}", encoding="utf-8")
        (docs / f"r{year}.meta.json").write_text(json.dumps({"year": year, "counties": ["祁县"]}), encoding="utf-8")
    base = _filler(99, 50)
    (docs / "law-old.txt").write_text("某县统战工作条例\n" + base, encoding="utf-8")
    (docs / "law-old.meta.json").write_text(json.dumps({"year": 2016, "date": "2016-05-01"}), encoding="utf-8")
    revised = base.split("\n")
    revised = revised[:30] + _filler(100, 8).split("\n") + revised[30:45]
    (docs / "law-new.txt").write_text("某县统战工作条例（2022年3月修订）\n" + "\n".join(revised) + "\n巩固和发展爱国统一战线。引导新乡贤参与乡村治理，发挥新乡贤作用。",
                                      encoding="utf-8")
    (docs / "law-new.meta.json").write_text(json.dumps({"year": 2022, "date": "2022-03-01"}), encoding="utf-8")
    (docs / "front.txt").write_text("2020年统一战线工作总结\n巩固和发展爱国统一战线，乡村振兴。", encoding="utf-8")
    (docs / "front.meta.json").write_text(json.dumps({"year": 2020}), encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("research-index")
    assert ingest_paths([docs], index_dir).count("failed") == 0
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
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                 "--window-size=1280,1400", f"--user-data-dir={tmp_path_factory.mktemp('chromium-research')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _shot(browser, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = browser.get_window_size()["width"]
    height = browser.execute_script("return Math.min(document.documentElement.scrollHeight, 3000)")
    browser.set_window_size(width, max(height, 600))
    browser.save_screenshot(str(SCREENSHOTS / f"research-{name}.png"))


CHART_JS = """
const svg = [...document.querySelectorAll('svg.trend-chart')].find(s => getComputedStyle(s).display !== 'none');
const box = svg.getBoundingClientRect();
const texts = [...svg.querySelectorAll('text')].map(t => { const r = t.getBoundingClientRect();
  return {text: t.textContent, cls: t.getAttribute('class'), left: r.left, right: r.right, top: r.top, bottom: r.bottom,
          height: r.height}; });
return {kind: svg.getAttribute('class'), box: [box.left, box.right, box.top, box.bottom], texts: texts,
        lines: svg.querySelectorAll('path.line').length, scroll: document.documentElement.scrollWidth};
"""


def _check_chart(browser, lines: int, viewport: int) -> dict:
    """One drawing shown, with a line per term; its text readable (10 px or more on screen), inside
    the drawing, and the term names at the line ends apart; no sideways scrolling."""
    got = browser.execute_script(CHART_JS)
    assert got["lines"] == lines, got
    left, right, top, bottom = got["box"]
    for text in got["texts"]:
        assert text["height"] >= 10, text  # readable, whatever the screen
        assert left - 1 <= text["left"] and text["right"] <= right + 1, (text, got["box"])
    ends = sorted((t for t in got["texts"] if t["cls"] == "end-label"), key=lambda t: t["top"])
    for above, below in zip(ends, ends[1:]):
        assert above["bottom"] <= below["top"] + 1, (above, below)
    assert got["scroll"] <= viewport
    return got


def test_chart_the_query_from_the_search_page(research_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.set_window_size(1280, 1400)
    browser.get(research_server + "/")
    box = browser.find_element(By.ID, "q")
    box.send_keys("乡村振兴 脱贫攻坚 新乡贤")
    box.send_keys(Keys.ENTER)
    browser.find_element(By.CSS_SELECTOR, "a.trend-link").click()  # one click charts the query
    assert browser.find_element(By.ID, "terms").get_attribute("value") == "乡村振兴,脱贫攻坚,新乡贤"
    got = _check_chart(browser, 3, 1280)
    assert "wide" in got["kind"] and {t["text"] for t in got["texts"] if t["cls"] == "end-label"} == {"乡村振兴", "脱贫攻坚", "新乡贤"}
    points = browser.find_elements(By.CSS_SELECTOR, "svg.trend-chart.wide circle.hover title")
    assert "2017 年 · 脱贫攻坚：1 篇" in points[0].get_attribute("textContent") or points
    assert browser.find_elements(By.CSS_SELECTOR, "table.trend-table tbody tr")
    _shot(browser, "trends-desktop")

    browser.find_element(By.LINK_TEXT, "每万字提及次数").click()
    assert browser.find_element(By.CSS_SELECTOR, ".metric strong").text == "每万字提及次数"
    _check_chart(browser, 3, 1280)
    browser.find_element(By.LINK_TEXT, "下载表格 (CSV)")  # and the CSV is a link away


def test_trends_on_a_phone(research_server, browser):
    browser.set_window_size(390, 844)
    try:
        browser.get(research_server + "/trends?terms=乡村振兴,脱贫攻坚,新乡贤&metric=share&county=祁县")
        got = _check_chart(browser, 3, 390)
        assert "narrow" in got["kind"]
        _shot(browser, "trends-phone")
    finally:
        browser.set_window_size(1280, 1400)


def test_synonyms_are_said_and_can_be_switched_off(research_server, browser):
    from selenium.webdriver.common.by import By

    browser.set_window_size(1280, 1400)
    browser.get(research_server + "/?q=统战")
    note = browser.find_element(By.CSS_SELECTOR, "p.expansions")
    assert "同时搜索了：统一战线" in note.text
    titles = [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".hit h3 a")]
    assert "2020年统一战线工作总结" in titles and titles.index("2020年统一战线工作总结") == len(titles) - 1
    _shot(browser, "synonyms")
    note.find_element(By.LINK_TEXT, "只搜所输入的词").click()
    assert "2020年统一战线工作总结" not in [h.text for h in browser.find_elements(By.CSS_SELECTOR, ".hit h3 a")]
    assert "同时搜索 统一战线" in browser.find_element(By.CSS_SELECTOR, "p.expansions").text


def test_versions_collapse_and_compare(research_server, browser):
    from selenium.webdriver.common.by import By

    browser.set_window_size(1280, 1400)
    browser.get(research_server + "/?q=统战工作条例")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".hit")) == 2
    browser.find_element(By.LINK_TEXT, "同一文档的多个版本只显示最新的").click()
    hits = browser.find_elements(By.CSS_SELECTOR, ".hit")
    assert len(hits) == 1 and "另有 1 个版本" in hits[0].text
    hits[0].find_element(By.LINK_TEXT, "另有 1 个版本").click()
    versions = browser.find_element(By.ID, "versions")
    assert "2016-05-01" in versions.text and "相似度" in versions.text
    _shot(browser, "document-versions")
    versions.find_element(By.LINK_TEXT, "逐段对比").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "对比两篇文档"
    head = browser.find_element(By.CSS_SELECTOR, "dl.compare-head").text
    assert head.index("2016-05-01") < head.index("2022-03-01")  # the older one is A
    assert browser.find_elements(By.CSS_SELECTOR, "table.diff ins")
    assert "新乡贤" in browser.find_element(By.CSS_SELECTOR, ".term-list.new").text
    _shot(browser, "compare-desktop")
    browser.set_window_size(390, 844)
    try:
        browser.refresh()
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390  # stacked, no sideways scroll
        _shot(browser, "compare-phone")
    finally:
        browser.set_window_size(1280, 1400)


def test_compare_two_checked_hits(research_server, browser):
    from selenium.webdriver.common.by import By

    browser.set_window_size(1280, 1400)
    browser.get(research_server + "/?q=政府工作报告&sort=newest")
    boxes = browser.find_elements(By.CSS_SELECTOR, ".hit input[type=checkbox][name=id]")
    boxes[0].click()
    boxes[3].click()
    browser.find_element(By.CSS_SELECTOR, "#compare-form button").click()
    # the click starts a navigation: wait for the comparison page (a loaded CI machine is slow to answer)
    from selenium.webdriver.support.ui import WebDriverWait

    head = WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "dl.compare-head"))[0].text
    assert "2021年某县政府工作报告" in head and "2024年某县政府工作报告" in head
    assert head.index("2021年") < head.index("2024年")  # older first, whichever was checked first
