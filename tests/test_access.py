"""Who may see what: accounts, sign-in, tokens, access levels on every route, the audit trail,
and regression tests for what an outside test of the site found."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

from support import ingest_paths
from web import create_app

WORD = "乡村振兴"
DOCS = {
    "公开/open.txt": f"公开文件标题\n{WORD}公开内容甲。\n2021年1月1日",
    "内部资料/internal.txt": f"内部文件标题\n{WORD}内部内容乙。\n2021年2月1日",
    "受限/secret.txt": f"受限文件标题\n{WORD}受限内容丙。\n2022年3月1日",
    "受限/secret.meta.json": json.dumps({"access": "受限"}, ensure_ascii=False),
}
MARKERS = {"公开": "公开内容甲", "内部": "内部内容乙", "受限": "受限内容丙"}
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """An index with one document per access level, three users and their tokens."""
    from kb.users import UserStore

    root = tmp_path_factory.mktemp("docs")
    for name, text in DOCS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    index = tmp_path_factory.mktemp("index")
    summary = ingest_paths([root], index)
    assert summary.counts["added"] == 3, summary.results
    store = UserStore(index)
    store.add("reader1", "reader", None, PASSWORD)
    store.add("editor1", "editor", "内部", PASSWORD)
    store.add("admin1", "admin", "受限", PASSWORD)
    tokens = {name: store.new_token(name) for name in ("reader1", "editor1", "admin1")}
    app = create_app({"TESTING": True, "KB_INDEX": str(index)})
    return {"app": app, "index": index, "tokens": tokens, "root": root}


def _client(site):
    return site["app"].test_client()


def _bearer(site, name):
    return {"Authorization": f"Bearer {site['tokens'][name]}"}


def _ids(site):
    from kb.search import KnowledgeBase

    kb = KnowledgeBase(site["index"])
    return {d["access"][0]: d["id"] for d in kb.documents()}


def _login(client, name, password=PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


# --- access levels ---------------------------------------------------------------------------------


def test_levels_come_from_the_data_file_path_rules_and_sidecars(site):
    assert set(_ids(site)) == {"公开", "内部", "受限"}


ROUTES = ("/?q={q}", "/?q={q}&mode=like", "/api/search?q={q}", "/api/facets?q={q}", "/feed?q={q}",
          "/export.csv?q={q}", "/?q=&access=受限", "/api/search?q=&sort=newest&size=100")


@pytest.mark.parametrize("who, visible", [(None, {"公开"}), ("reader1", {"公开"}), ("editor1", {"公开", "内部"}),
                                          ("admin1", {"公开", "内部", "受限"})])
def test_no_route_shows_a_document_above_the_clearance(site, who, visible):
    client = _client(site)
    headers = _bearer(site, who) if who else {}
    ids = _ids(site)
    for route in ROUTES:
        body = client.get(route.format(q=WORD), headers=headers).get_data(as_text=True)
        for level, marker in MARKERS.items():
            shown = marker in body or ids[level] in body or f"{level}文件标题" in body
            if level not in visible:
                assert not shown, (who, route, level)  # never a trace of what the user may not see
            elif "facets" not in route and "access=" not in route:
                assert shown, (who, route, level)
    data = client.get(f"/api/search?q={WORD}", headers=headers).get_json()
    assert data["total"] == len(visible)
    assert sum(data["facets"]["year"].values()) == len(visible)
    assert set(data["facets"]["access"]) == visible
    for level, doc_id in ids.items():
        expected = 200 if level in visible else 404
        for path in (f"/doc/{doc_id}", f"/doc/{doc_id}/original", f"/api/doc/{doc_id}"):
            assert client.get(path, headers=headers).status_code == expected, (who, path)


def test_similar_documents_and_passages_respect_the_clearance(site):
    client = _client(site)
    ids = _ids(site)
    page = client.get(f"/doc/{ids['公开']}").get_data(as_text=True)
    assert ids["内部"] not in page and ids["受限"] not in page
    like = client.get("/api/search", query_string={"mode": "like", "passage": f"{WORD}受限内容丙内部内容乙"}).get_json()
    assert {h["id"] for h in like["hits"]} <= {ids["公开"]}


def test_the_library_hides_documents_above_a_clearance(site):
    from kb.search import KnowledgeBase

    kb = KnowledgeBase(site["index"])
    ids = _ids(site)
    assert kb.search(WORD).total == 3 and kb.search(WORD, clearance=0).total == 1
    assert kb.count(clearance=1) == 2 and len(list(kb.documents(clearance=0))) == 1
    assert kb.document(ids["受限"], clearance=1) is None and kb.original(ids["受限"], clearance=1) is None
    assert kb.facets(clearance=0)["access"] == {"公开": 1}


# --- accounts, sign-in, tokens -----------------------------------------------------------------------


def test_passwords_and_tokens_are_stored_hashed(site):
    raw = (site["index"] / "users" / "users.json").read_text(encoding="utf-8")
    assert PASSWORD not in raw and "$argon2id$" in raw
    assert all(token not in raw for token in site["tokens"].values())


def test_sign_in_sets_a_safe_cookie_and_grants_the_clearance(site):
    client = _client(site)
    response = _login(client, "editor1")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/api/me").get_json() == {"user": "editor1", "role": "editor", "clearance": "内部"}
    assert client.get(f"/api/search?q={WORD}").get_json()["total"] == 2
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/api/me").get_json()["user"] is None


def test_sign_in_needs_csrf_and_a_right_password(site):
    client = _client(site)
    assert client.post("/login", data={"name": "editor1", "password": PASSWORD}).status_code == 400
    assert _login(client, "editor1", "wrong password").status_code == 401
    assert _login(client, "nobody", PASSWORD).status_code == 401


def test_next_never_leaves_the_site(site):
    client = _client(site)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login?next=//evil.example/x", data={"name": "reader1", "password": PASSWORD,
                                                                 "csrf_token": token})
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]


def test_brute_force_is_rate_limited_with_retry_after(site):
    client = _client(site)
    codes = [_login(client, "admin1", f"guess {i}").status_code for i in range(6)]
    assert codes[:5] == [401] * 5
    limited = _login(client, "admin1", PASSWORD)  # even the right password, until the window passes
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    site["app"].extensions["login_limiter"].succeeded("admin1")


def test_token_misuse(site):
    from kb.users import UserStore

    client = _client(site)
    assert client.get("/api/search?q=x", headers={"Authorization": "Bearer kbt_forged"}).status_code == 401
    # a reader's token reads, but cannot write
    response = client.post("/api/documents", headers=_bearer(site, "reader1"),
                           data={"files": [(io.BytesIO("通知\n正文。".encode()), "a.txt")]})
    assert response.status_code == 403
    # a token in the URL is not a token
    assert client.get(f"/api/me?token={site['tokens']['admin1']}").get_json()["user"] is None
    store = UserStore(site["index"])
    spare = store.new_token("reader1")
    assert client.get("/api/me", headers={"Authorization": f"Bearer {spare}"}).get_json()["user"] == "reader1"
    store.revoke_tokens("reader1")
    assert client.get("/api/me", headers={"Authorization": f"Bearer {spare}"}).status_code == 401
    site["tokens"]["reader1"] = store.new_token("reader1")


def test_login_required_guards_every_route_but_login_static_and_health(site):
    app = create_app({"TESTING": True, "KB_INDEX": str(site["index"]), "LOGIN_REQUIRED": True})
    client = app.test_client()
    page = client.get("/?q=x")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    api = client.get("/api/search?q=x")
    assert api.status_code == 401 and api.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/feed").status_code == 401 and client.get("/export.csv").status_code == 401
    assert client.get("/health").status_code == 200 and client.get("/login").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/api/search?q=x", headers=_bearer(site, "reader1")).status_code == 200


def test_trusted_proxy_header_is_off_unless_configured(site):
    plain = _client(site)
    assert plain.get("/api/me", headers={"X-Remote-User": "admin1"}).get_json()["user"] is None
    app = create_app({"TESTING": True, "KB_INDEX": str(site["index"]), "TRUSTED_USER_HEADER": "X-Remote-User"})
    me = app.test_client().get("/api/me", headers={"X-Remote-User": "admin1"}).get_json()
    assert me == {"user": "admin1", "role": "admin", "clearance": "受限"}


# --- editors' corrections and access changes -----------------------------------------------------------


def test_editors_correct_metadata_and_access_from_the_api(site):
    client = _client(site)
    ids = _ids(site)
    reader = client.post(f"/api/doc/{ids['公开']}/metadata", json={"set": {"year": 2019}}, headers=_bearer(site, "reader1"))
    assert reader.status_code == 403
    done = client.post(f"/api/doc/{ids['公开']}/metadata", json={"set": {"year": 2019, "counties": "涞水县"}},
                       headers=_bearer(site, "editor1"))
    assert done.status_code == 200 and done.get_json()["document"]["year"] == 2019
    bad = client.post(f"/api/doc/{ids['公开']}/metadata", json={"set": {"access": "绝密"}}, headers=_bearer(site, "editor1"))
    assert bad.status_code == 400
    raised = client.post(f"/api/doc/{ids['公开']}/metadata", json={"set": {"access": "内部"}}, headers=_bearer(site, "editor1"))
    assert raised.status_code == 200
    assert client.get(f"/api/doc/{ids['公开']}").status_code == 404  # anonymous can no longer see it
    client.post(f"/api/doc/{ids['公开']}/metadata", json={"unset": ["access", "year", "counties"]},
                headers=_bearer(site, "editor1"))
    assert client.get(f"/api/doc/{ids['公开']}").get_json()["year"] == 2021


# --- the audit trail ---------------------------------------------------------------------------------------


def test_the_audit_trail_records_who_did_what(site, capsys):
    from kb.cli import main

    client = _client(site)
    _login(client, "reader1", "not it")
    _login(client, "editor1")
    ids = _ids(site)
    client.get(f"/?q={WORD}")
    client.get(f"/doc/{ids['公开']}")
    client.get(f"/doc/{ids['公开']}/original")
    assert main(["users", "set", "reader1", "--role", "reader", "--index", str(site["index"])]) == 0
    capsys.readouterr()
    assert main(["audit", "--json", "--index", str(site["index"])]) == 0
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    actions = {(e["action"], e["user"]) for e in entries}
    assert {("login_failed", "reader1"), ("login", "editor1"), ("search", "editor1"), ("view", "editor1"),
            ("download", "editor1"), ("user", "command line")} <= actions
    search = next(e for e in entries if e["action"] == "search" and e["user"] == "editor1")
    assert search["query"] == WORD and search["total"] == 2
    assert any(e["action"] in ("metadata", "access") for e in entries)
    assert main(["audit", "--user", "editor1", "--action", "view", "--index", str(site["index"])]) == 0
    assert "view" in capsys.readouterr().out


def test_admins_see_the_audit_page_others_do_not(site):
    client = _client(site)
    assert client.get("/admin", headers=_bearer(site, "editor1")).status_code == 403
    page = client.get("/admin", headers=_bearer(site, "admin1"))
    assert page.status_code == 200 and "审计记录" in page.get_data(as_text=True)


# --- what the outside test found ----------------------------------------------------------------------------


@pytest.fixture
def token_site(tmp_path):
    # uploads answer with their results (a loaded test machine may take longer than the default wait)
    app = create_app({"TESTING": True, "KB_INDEX": str(tmp_path / "index"), "ADMIN_TOKEN": "s3cret",
                      "UPLOAD_MAX_FILES": 3, "UPLOAD_WAIT_SECONDS": 120})
    return app, app.test_client(), {"Authorization": "Bearer s3cret"}


def _upload(client, headers, *files):
    return client.post("/api/documents", headers=headers,
                       data={"files": [(io.BytesIO(text.encode("utf-8")), name) for name, text in files]})


def test_same_name_uploads_never_replace_each_other(token_site):
    app, client, headers = token_site
    assert _upload(client, headers, ("报告.txt", "第一份报告\n防汛救灾甲。")).status_code == 200
    assert _upload(client, headers, ("报告.txt", "第二份报告\n防汛救灾乙。")).status_code == 200
    both = _upload(client, headers, ("报告.txt", "第三份报告\n防汛救灾丙。"), ("报告.txt", "第四份报告\n防汛救灾丁。"))
    assert [f["status"] for f in both.get_json()["files"]] == ["added", "added"]
    assert client.get("/api/search?q=防汛救灾").get_json()["total"] == 4
    again = _upload(client, headers, ("副本.txt", "第一份报告\n防汛救灾甲。")).get_json()
    assert again["files"][0]["status"] == "duplicate"


def test_an_upload_while_the_index_is_busy_is_queued_not_500(token_site):
    import time

    from kb import index as kbindex

    app, client, headers = token_site
    _upload(client, headers, ("a.txt", "甲报告\n内容甲。"))
    app.config["UPLOAD_WAIT_SECONDS"] = 0.5
    writer = kbindex.writer(kbindex.open_index(app.extensions["kb"].index_dir))  # another ingest holds the lock
    try:
        response = _upload(client, headers, ("b.txt", "乙报告\n内容乙。"))
        assert response.status_code == 202
        status_url = response.get_json()["status_url"]
        assert response.headers["Location"] == status_url
        assert client.get(status_url, headers=headers).get_json()["status"] in ("queued", "running")
    finally:
        writer.cancel()
    deadline = time.monotonic() + 30
    while client.get(status_url, headers=headers).get_json()["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert client.get("/api/search?q=内容乙").get_json()["total"] == 1


def test_a_slow_upload_is_answered_at_once_and_its_page_follows_it(token_site):
    """The request does not wait for a long ingest (OCR): 202 and a page that refreshes itself
    until the results are there; the audit trail gets the files' outcome once, when it ends."""
    import re
    import time

    from kb import index as kbindex
    from kb.audit import AuditLog

    app, client, headers = token_site
    _upload(client, headers, ("a.txt", "甲报告\n内容甲。"))
    app.config["UPLOAD_WAIT_SECONDS"] = 0
    writer = kbindex.writer(kbindex.open_index(app.extensions["kb"].index_dir))  # the job cannot end yet
    try:
        html = client.get("/upload").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        response = client.post("/upload", data={"files": (io.BytesIO("丙报告\n内容丙。".encode()), "c.txt"),
                                                "token": "s3cret", "csrf_token": token})
        assert response.status_code == 303
        page = response.headers["Location"]
        waiting = client.get(page).get_data(as_text=True)
        assert 'http-equiv="refresh"' in waiting and ("正在入库" in waiting or "排队" in waiting)
    finally:
        writer.cancel()
    deadline = time.monotonic() + 30
    while 'http-equiv="refresh"' in (done := client.get(page).get_data(as_text=True)):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert "已添加" in done and "c.txt" in done
    # the request's line names the job; the job's own line, when it ends, names the file once
    lines = [e for e in AuditLog(app.extensions["kb"].index_dir).entries(action="upload") if e.get("job")]
    assert len(lines) == 2 and lines[0]["job"] == lines[1]["job"] and all(e.get("queued") for e in lines)
    assert [e["files"] for e in lines] == [{}, {"c.txt": "added"}]


def test_another_server_process_answers_about_a_job(token_site):
    """Each process has its own queue; a job's state is on disk, so any process can tell it."""
    import time

    from kb import index as kbindex

    app, client, headers = token_site
    _upload(client, headers, ("a.txt", "甲报告\n内容甲。"))
    app.config["UPLOAD_WAIT_SECONDS"] = 0
    other = create_app({"TESTING": True, "KB_INDEX": app.config["KB_INDEX"], "ADMIN_TOKEN": "s3cret"}).test_client()
    writer = kbindex.writer(kbindex.open_index(app.extensions["kb"].index_dir))
    try:
        job = _upload(client, headers, ("d.txt", "丁报告\n内容丁。")).get_json()["job"]
        assert other.get(f"/api/uploads/{job}", headers=headers).get_json()["status"] in ("queued", "running")
    finally:
        writer.cancel()
    deadline = time.monotonic() + 30
    while (answer := other.get(f"/api/uploads/{job}", headers=headers).get_json())["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert [f["status"] for f in answer["files"]] == ["added"] and "path" not in answer["files"][0]
    assert other.get("/api/uploads/0123456789abcdef", headers=headers).status_code == 404
    assert other.get("/api/uploads/..%2F..%2Fusers", headers=headers).status_code == 404


def test_a_job_whose_server_stopped_says_so(token_site):
    """A server restarted mid-batch leaves a job file saying "running": its page must not wait forever."""
    import json

    app, client, headers = token_site
    _upload(client, headers, ("a.txt", "甲报告\n内容甲。"))
    jobs = app.extensions["kb"].index_dir / "uploads" / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    (jobs / "00000000000000aa.json").write_text(json.dumps(
        {"job": "00000000000000aa", "status": "running", "files": [], "pid": 2 ** 22 + 12345}), encoding="utf-8")
    answer = client.get("/api/uploads/00000000000000aa", headers=headers).get_json()
    assert answer["status"] == "failed" and "upload it again" in answer["error"]
    page = client.get("/upload?job=00000000000000aa").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in page and "请重新上传" in page


def test_an_upload_answered_in_time_is_audited_once(token_site):
    from kb.audit import AuditLog

    app, client, headers = token_site
    assert _upload(client, headers, ("e.txt", "戊报告\n内容戊。")).status_code == 200
    uploads = [e for e in AuditLog(app.extensions["kb"].index_dir).entries(action="upload")]
    assert len(uploads) == 1 and not uploads[0].get("queued")


def test_rejected_uploads_leave_nothing_on_disk(token_site):
    app, client, headers = token_site
    _upload(client, headers, ("空.txt", ""), ("图.xyz", "x"))
    uploads = app.extensions["kb"].index_dir / "uploads"
    assert not [p for p in uploads.rglob("*") if p.is_file()] if uploads.exists() else True


def test_too_many_files_says_so(token_site):
    app, client, headers = token_site
    response = _upload(client, headers, *((f"{i}.txt", "正文。") for i in range(4)))
    assert response.status_code == 413 and "too many files" in response.get_json()["error"]


def test_csv_export_is_safe_in_excel_and_always_has_a_header(token_site):
    app, client, headers = token_site
    _upload(client, headers, ("f.txt", "=HYPERLINK(\"http://evil\")\n+乡村振兴正文，-1+2。"))
    body = client.get("/export.csv?q=乡村振兴").get_data(as_text=True).lstrip("\ufeff")
    import csv

    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:2] == ["id", "title"]
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row)
    empty = client.get("/export.csv?q=不存在的词语组合").get_data(as_text=True).lstrip("\ufeff")
    assert empty.splitlines()[0].startswith("id,title")


def test_feed_is_well_formed_with_control_characters_and_has_an_author(token_site):
    app, client, headers = token_site
    _upload(client, headers, ("g.txt", "统战工作\n正文。"))
    for q in ("%01统战", "\x0b统战\x1f", "统战\ufffe"):
        response = client.get("/feed", query_string={"q": q})
        root = ET.fromstring(response.data)
        assert root.find("{http://www.w3.org/2005/Atom}author/{http://www.w3.org/2005/Atom}name").text


def test_links_never_follow_the_host_header(token_site):
    app, client, headers = token_site
    _upload(client, headers, ("h.txt", "统战工作\n正文。"))
    for path in ("/feed?q=统战", "/api/search?q=统战", "/export.csv?q=统战"):
        body = client.get(path, headers={"Host": "evil.example"}).get_data(as_text=True)
        assert "evil.example" not in body, path
    app.config["BASE_URL"] = "https://kb.example.gov.cn"
    assert "https://kb.example.gov.cn/doc/" in client.get("/feed?q=统战").get_data(as_text=True)
    app.config["BASE_URL"] = None


def test_server_paths_are_not_shown_to_non_admins(token_site, tmp_path):
    app, client, headers = token_site
    _upload(client, headers, ("i.txt", "统战工作\n正文。"))
    hidden = str(app.extensions["kb"].index_dir)
    for path in ("/?q=统战", "/api/search?q=统战", "/export.csv?q=统战"):
        assert hidden not in client.get(path).get_data(as_text=True), path
    doc_id = client.get("/api/search?q=统战").get_json()["hits"][0]["id"]
    assert hidden not in client.get(f"/doc/{doc_id}").get_data(as_text=True)
    assert hidden not in json.dumps(client.get(f"/api/doc/{doc_id}").get_json(), ensure_ascii=False)
    assert hidden in client.get(f"/api/search?q=统战", headers=headers).get_data(as_text=True)  # admins see it


def test_405_says_what_is_allowed(token_site):
    app, client, headers = token_site
    response = client.delete("/api/search")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]


def test_a_folder_left_by_an_ingest_killed_before_its_first_commit_is_an_empty_index(tmp_path, capsys):
    from kb.cli import main

    folder = tmp_path / "index"
    (folder / "originals" / "ab").mkdir(parents=True)
    (folder / "kb_WRITELOCK").write_text("")
    assert main(["search", "x", "--index", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 0
    client = create_app({"TESTING": True, "KB_INDEX": str(folder)}).test_client()
    assert client.get("/api/search?q=x").get_json()["total"] == 0
