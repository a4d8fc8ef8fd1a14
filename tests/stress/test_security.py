"""Security, as an attacker and a browser see it: hostile documents, names and queries never run
script; errors leak nothing; the headers hold; writes need the token."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.parse
import urllib.request

import pytest

from support import ingest_paths
from server import Server

pytestmark = pytest.mark.stress

PAYLOADS = ['<img src=x onerror="window.__xss=1">', '"><svg onload="window.__xss=2">', "<script>window.__xss=3</script>",
            "javascript:window.__xss=4", "'';!--\"<XSS>=&{()}"]


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    for i, payload in enumerate(PAYLOADS):
        name = f"doc{i}{payload[:20].replace('/', '_')}.txt"
        (root / name).write_text(f"{payload}关于统战工作的通知{payload}\n正文{payload}乡村振兴。\n2021年1月{i + 1}日",
                                 encoding="utf-8")
        (root / (name[:-4] + ".meta.json")).write_text(json.dumps(
            {"counties": [payload], "sectors": [payload], "issuer": [payload], "note": payload}), encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("hostile-index")
    ingest_paths([root], index_dir)
    server = Server(index_dir, env={"KB_ADMIN_TOKEN": "correct-token", "KB_UPLOAD_WAIT_SECONDS": "120"})
    yield server
    server.stop()


def _get(url: str) -> tuple[int, str, dict]:
    url = urllib.parse.quote(url, safe=":/?&=%#+")  # the Chinese and spaces of a typed URL, as a browser sends them
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace"), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace"), dict(exc.headers)


def _pages(base: str) -> list[str]:
    hits = json.loads(_get(base + "/api/search?q=统战工作&size=20")[1])["hits"]
    pages = [base + "/", base + "/?q=统战工作", base + "/feed?q=统战", base + "/upload"]
    for payload in PAYLOADS:
        pages += [base + "/?q=" + urllib.parse.quote(payload), base + "/?county=" + urllib.parse.quote(payload)]
    pages += [f"{base}/doc/{h['id']}?q={urllib.parse.quote(PAYLOADS[0])}" for h in hits]
    return pages


def test_no_page_carries_live_markup(hostile_server):
    for url in _pages(hostile_server.base):
        status, body, headers = _get(url)
        assert status == 200, url
        for payload in PAYLOADS[:3]:
            assert payload not in body, (url, payload)
        assert "onerror=\"window" not in body and "<script>window" not in body
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("chromedriver")),
                    reason="needs chromium and chromedriver (apt-get install chromium chromium-driver)")
def test_no_script_runs_in_a_browser(hostile_server, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        for url in _pages(hostile_server.base):
            driver.get(url)
            assert driver.execute_script("return window.__xss === undefined"), url
    finally:
        driver.quit()


def test_errors_leak_nothing(hostile_server):
    for path in ["/doc/../../etc/passwd", "/doc/%2e%2e%2f%2e%2e%2fetc", "/nope", "/?page=-1", "/api/doc/x",
                 "/static/../../kb/config.py", "/doc/0123456789abcdef/original", "/?q=" + "长" * 600]:
        status, body, _ = _get(hostile_server.base + path)
        assert status in (400, 404), path
        for secret in ("Traceback", "/work/", "site-packages", "correct-token", "KB_ADMIN_TOKEN=", "root:x:"):
            assert secret not in body, (path, secret)


def _post(url: str, token: str | None, files: dict[str, bytes]) -> int:
    boundary = "----kbtest"
    parts = []
    for name, content in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                     f"Content-Type: text/plain\r\n\r\n".encode() + content + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_writes_need_the_token_and_respect_limits(hostile_server):
    url = hostile_server.base + "/api/documents"
    assert _post(url, None, {"a.txt": "统战".encode()}) == 401  # who is asking? (WWW-Authenticate)
    assert _post(url, "wrong-token", {"a.txt": "统战".encode()}) == 401  # a token nobody issued
    assert _post(url, "correct-token", {f"{i}.txt": "统战".encode() for i in range(25)}) == 413  # > 20 files
    assert _post(url, "correct-token", {"big.txt": b"x" * (51 * 1024 * 1024)}) == 413  # > 50 MB
    assert _post(url, "correct-token", {"../../escape.txt": "统一战线 上传".encode()}) == 200
    assert json.loads(_get(hostile_server.base + "/api/search?q=统一战线 上传")[1])["total"] == 1
