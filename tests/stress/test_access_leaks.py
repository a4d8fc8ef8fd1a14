"""The access-leak campaign: random documents at random levels, random users, random routes and
queries; no answer may ever reveal a document, or a count, above the user's clearance.

Bounded by default; KB_STRESS=full runs more cases. Also: login brute force from many names, and
the OpenAPI-driven requests signed in with a token."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stress_config import FULL
from support import ingest_paths
from web import create_app

pytestmark = pytest.mark.stress

LEVELS = ("公开", "内部", "受限")
WORDS = ("乡村振兴", "民营经济", "统一战线", "防汛救灾", "新乡贤")
DOCS = 18
CASES = 1500 if FULL else 150
SETTINGS = settings(max_examples=CASES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from kb.users import UserStore

    rng = random.Random(1313)
    root = tmp_path_factory.mktemp("leak-docs")
    docs = []
    for i in range(DOCS):
        level = rng.choice(LEVELS)
        words = rng.sample(WORDS, rng.randint(1, 3))
        marker = f"标记{i:02d}号"
        text = f"{marker}文件第{i}号\n" + "，".join(words) + f"。{marker}正文。\n{2010 + i % 12}年1月1日"
        (root / f"d{i:02d}.txt").write_text(text, encoding="utf-8")
        (root / f"d{i:02d}.meta.json").write_text(json.dumps({"access": level}, ensure_ascii=False), encoding="utf-8")
        docs.append({"marker": marker, "level": LEVELS.index(level), "words": set(words)})
    index = tmp_path_factory.mktemp("leak-index")
    assert ingest_paths([root], index).counts["added"] == DOCS
    store = UserStore(index)
    tokens = {}
    for rank, level in enumerate(LEVELS):
        store.add(f"u{rank}", "editor" if rank else "reader", level, None)
        tokens[rank] = store.new_token(f"u{rank}")
    app = create_app({"TESTING": True, "KB_INDEX": str(index)})
    from kb.search import KnowledgeBase

    kb = KnowledgeBase(index)
    for doc in docs:
        doc["id"] = kb.search(f'"{doc["marker"]}"').hits[0].id
    return {"client": app.test_client(), "docs": docs, "tokens": tokens}


ROUTES = ("/", "/api/search", "/api/facets", "/feed", "/export.csv", "/trends", "/api/trends", "/trends.csv",
          "/api/versions")


@SETTINGS
@given(clearance=st.sampled_from([None, 0, 1, 2]), route=st.sampled_from(ROUTES),
       query=st.sampled_from(("",) + WORDS + ("乡村振兴 OR 新乡贤", "-民营经济", "标记", "文件")),
       level_filter=st.sampled_from([None] + list(LEVELS)), like=st.booleans(), sort=st.sampled_from(["relevance", "newest", "added"]))
def test_no_route_reveals_a_document_or_a_count_above_the_clearance(world, clearance, route, query, level_filter,
                                                                    like, sort):
    client, docs = world["client"], world["docs"]
    rank = 0 if clearance is None else clearance
    headers = {"Authorization": f"Bearer {world['tokens'][clearance]}"} if clearance is not None else {}
    args = {"q" if not like else "passage": query, "sort": sort, "size": 100}
    if "trends" in route:
        args = {"terms": query or WORDS[0]}
    if like:
        args["mode"] = "like"
    if level_filter:
        args["access"] = level_filter
    response = client.get(route, query_string=args, headers=headers)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    for doc in docs:
        if doc["level"] > rank:
            assert doc["marker"] not in body and doc["id"] not in body, (clearance, route, query, doc)
    if route == "/api/trends":
        data = response.get_json()
        term = next(iter(data["terms"]))
        mentioned = sum(point["docs"] for point in data["terms"][term].values())
        if term in WORDS and not level_filter:
            assert mentioned == sum(1 for d in docs if d["level"] <= rank and term in d["words"]), (clearance, term)
        assert sum(y["docs"] for y in data["years"].values()) <= sum(1 for d in docs if d["level"] <= rank)
    if route == "/api/search":
        data = response.get_json()
        assert all(h["access"] in LEVELS[:rank + 1] for h in data["hits"])
        counts = data["facets"]
        assert sum(counts.get("access", {}).values()) == data["total"]
        assert set(counts.get("access", {})) <= set(LEVELS[:rank + 1])
        if not like and query in WORDS and not level_filter:
            assert data["total"] == sum(1 for d in docs if d["level"] <= rank and query in d["words"])


def test_documents_and_originals_above_the_clearance_are_404(world):
    client, docs = world["client"], world["docs"]
    for clearance in (None, 0, 1, 2):
        rank = 0 if clearance is None else clearance
        headers = {"Authorization": f"Bearer {world['tokens'][clearance]}"} if clearance is not None else {}
        for doc in docs:
            expected = 200 if doc["level"] <= rank else 404
            for path in (f"/doc/{doc['id']}", f"/doc/{doc['id']}/original", f"/api/doc/{doc['id']}"):
                response = client.get(path, headers=headers)
                assert response.status_code == expected, (clearance, path)
                if expected == 404:
                    assert doc["marker"] not in response.get_data(as_text=True)
            if doc["level"] <= rank:  # similar documents listed on a visible page: all visible too
                page = client.get(f"/doc/{doc['id']}", headers=headers).get_data(as_text=True)
                assert not [d for d in docs if d["level"] > rank and d["id"] in page]


def test_comparing_with_a_hidden_document_is_404(world):
    client, docs = world["client"], world["docs"]
    low = next(d for d in docs if d["level"] == 0)
    high = next(d for d in docs if d["level"] == 2)
    for path in (f"/compare?a={low['id']}&b={high['id']}", f"/api/compare?a={high['id']}&b={low['id']}"):
        response = client.get(path)
        assert response.status_code == 404 and high["marker"] not in response.get_data(as_text=True)
    headers = {"Authorization": f"Bearer {world['tokens'][2]}"}
    assert client.get(f"/api/compare?a={low['id']}&b={high['id']}", headers=headers).status_code == 200


def test_login_brute_force_is_stopped(world):
    import re

    client = world["client"]
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    codes = [client.post("/login", data={"name": f"u{i % 3}", "password": f"guess-{i}", "csrf_token": token}).status_code
             for i in range(40)]
    assert 429 in codes and codes.count(401) <= 20  # per address: at most 20 failures in the window
    assert all(code in (401, 429) for code in codes)


def test_openapi_campaign_signed_in_never_500s(world):
    """Every parameter of every GET operation, in and out of its declared range, with a token."""
    client = world["client"]
    headers = {"Authorization": f"Bearer {world['tokens'][1]}"}
    spec = client.get("/api/openapi.json").get_json()
    rng = random.Random(7)
    hostile = ["", "-1", "0", "10001", "二〇二一", "<script>", "\x00", "乡村振兴" * 200, "%", "1e9"]
    sent = 0
    for path, operations in spec["paths"].items():
        if "{" in path or "get" not in operations:
            continue
        for _ in range(40 if FULL else 10):
            query = {p["name"]: rng.choice(hostile) for p in operations["get"].get("parameters", []) if rng.random() < 0.4}
            response = client.get(path, query_string=query, headers=headers)
            assert response.status_code < 500, (path, query, response.status_code)
            sent += 1
    assert sent >= 20
