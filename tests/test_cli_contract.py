"""The scripting contract of the `kb` command: exit codes 0/1/2, one-line errors, never a traceback,
big limits and streaming, quiet closed pipes, --version and explained options."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from support import ROOT

DOCS = {f"r{i:02d}.txt": f"第{i}号报告\n乡村振兴工作第{i}项。\n{2010 + i % 10}年1月1日" for i in range(30)}


def kb(*args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "kb", *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          input=stdin, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    from support import ingest_paths

    root = tmp_path_factory.mktemp("contract-docs")
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    where = tmp_path_factory.mktemp("contract-index")
    assert ingest_paths([root], where).counts["added"] == len(DOCS)
    return str(where)


def _no_traceback(done):
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, done.stderr


def test_version_and_help():
    done = kb("--version")
    assert done.returncode == 0 and done.stdout.startswith("kb ")
    for sub in ("search", "ingest", "show", "set", "remove", "stats", "reextract", "docs", "users", "audit", "serve"):
        helped = kb(sub, "--help")
        assert helped.returncode == 0, (sub, helped.stderr)
        assert "--index" in helped.stdout or sub == "users"


def test_a_built_in_command_loads_no_plugins(index):
    """kb search starts without scanning entry points or importing the web package (Flask): a third
    of the command's cold start; kb --help still lists serve, the plugin."""
    code = ("import sys; from kb.cli import main; main(['search', '乡村振兴', '--index', sys.argv[1], '--limit', '1']);"
            "print('FLASK' if 'flask' in sys.modules else 'NO FLASK')")
    done = subprocess.run([sys.executable, "-c", code, index], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip().endswith("NO FLASK"), done.stderr
    assert "serve" in kb("--help").stdout


def test_every_option_of_search_is_explained():
    text = kb("search", "--help").stdout
    import re

    options = set(re.findall(r"^\s+(--[a-z-]+)", text, re.M))
    assert options >= {"--limit", "--all", "--jsonl", "--json", "--years", "--county", "--sort", "--page"}
    for line in text.splitlines():
        if re.match(r"^\s+--[a-z-]+( [A-Z-]+)?$", line):  # an option alone on its line: its help follows
            continue
    assert "examples:" in text and "Exit codes" in text


def test_limit_up_to_ten_thousand_and_all(index):
    done = kb("search", "乡村振兴", "--limit", "10000", "--json", "--index", index)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["total"] == 30 and len(data["hits"]) == 30
    lines = kb("search", "乡村振兴", "--all", "--jsonl", "--index", index).stdout.splitlines()
    assert len(lines) == 30 and all(json.loads(line)["id"] for line in lines)
    assert len(kb("search", "乡村振兴", "--limit", "200", "--index", index).stdout.splitlines()) > 30


@pytest.mark.parametrize("args, option", [
    (["--years", "2022-2018"], "reversed"), (["--limit", "0"], "--limit"), (["--limit", "10001"], "--limit"),
    (["--page", "0"], "--page"), (["--years", "abc"], "2018-2021"), (["--year", "twenty"], "year"),
    (["--sort", "sideways"], "sort"), (["--county"], "county"),
])
def test_bad_options_are_usage_errors_naming_the_option(index, args, option):
    done = kb("search", "x", *args, "--index", index)
    assert done.returncode == 2, (args, done.stderr)
    _no_traceback(done)
    assert option in done.stderr and len(done.stderr.strip().splitlines()) <= 3


def test_a_page_past_the_end_says_so(index):
    done = kb("search", "乡村振兴", "--page", "999", "--index", index)
    assert done.returncode == 0 and "past the end" in done.stderr


def test_a_closed_pipe_ends_quietly(index):
    done = subprocess.run(f"{sys.executable} -m kb search 乡村振兴 --all --jsonl --index {index} | head -1",
                          shell=True, cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


@pytest.mark.parametrize("args, code", [
    (["show", "0000000000000000"], 2), (["set", "0000000000000000", "year=2020"], 2), (["remove", "nope"], 1),
    (["set", "r00.txt", "year=abc"], 2), (["users", "remove", "nobody"], 2), (["users", "add", "x y", "--no-password"], 2),
    (["users", "add", "short", "--password-stdin"], 2), (["audit", "--since", "yesterday"], 2),
    (["ingest", "/nonexistent/folder"], 1), (["ingest", "--manifest", "/nonexistent.csv", "."], 2),
    (["search", "x", "--index", "/nonexistent/index"], 2), (["stats", "--index", "/nonexistent/index"], 2),
    (["serve", "--config", "/nonexistent/kb.toml"], 2), (["nosuchcommand"], 2), ([], 2),
])
def test_every_subcommand_fails_in_one_line_with_the_right_code(index, args, code):
    if "--index" not in args and args and args[0] not in ("nosuchcommand",):
        args = [*args, "--index", index]
    done = kb(*args, stdin="abc\n")
    assert done.returncode == code, (args, done.returncode, done.stderr)
    _no_traceback(done)


def test_a_second_server_on_a_busy_port_is_one_clear_line(index):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = kb("serve", "--port", str(port), "--index", index)
    assert done.returncode == 1 and "cannot listen" in done.stderr
    _no_traceback(done)


def _serve(index, *args):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--port", str(port), "--index", index, *args],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    return server, port


def _answers(port, path="/health", tries=300):
    import time
    import urllib.request

    for _ in range(tries):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                return response.status, response.read()
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server never answered")


def _servers_of(pid):
    from pathlib import Path

    return [int(x) for task in Path(f"/proc/{pid}/task").iterdir() for x in (task / "children").read_text().split()]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked servers and /proc: Linux")
def test_several_server_processes_share_the_port_and_stop_together(index):
    import signal
    import time

    server, port = _serve(index, "--processes", "2")
    try:
        assert _answers(port)[0] == 200
        for _ in range(6):  # keep-alive off: each request may reach either process
            status, body = _answers(port, "/api/search?q=%E4%B9%A1%E6%9D%91%E6%8C%AF%E5%85%B4")
            assert status == 200 and json.loads(body)["total"] == len(DOCS)
        deadline = time.monotonic() + 30
        while len(_servers_of(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = _servers_of(server.pid)
        assert len(workers) == 2
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=30)
        assert server.returncode == 0 and "2 processes" in err and "Traceback" not in err
        assert not any(os.path.exists(f"/proc/{pid}") and "zombie" not in open(f"/proc/{pid}/status").read().lower()
                       for pid in workers)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _open_sockets(pid):
    from pathlib import Path

    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:  # closed meanwhile
            pass
    return count


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked servers and /proc: Linux")
def test_keep_alive_connections_are_spread_evenly_over_the_processes(index):
    # a keep-alive client stays with the process that accepted it: each new one goes to the
    # process holding the fewest (web/balance.py), not to whichever woke first
    import http.client
    import time

    server, port = _serve(index, "--processes", "2")
    clients = []
    try:
        _answers(port)
        deadline = time.monotonic() + 30
        while len(_servers_of(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = _servers_of(server.pid)
        before, settled = None, [_open_sockets(pid) for pid in workers]
        while before != settled and time.monotonic() < deadline:  # the probes' connections closed
            time.sleep(0.3)
            before, settled = settled, [_open_sockets(pid) for pid in workers]
        for _ in range(12):
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            client.request("GET", "/health")
            response = client.getresponse()
            response.read()
            assert response.status == 200
            clients.append(client)
        held = [_open_sockets(pid) - base for pid, base in zip(workers, before)]
        assert sum(held) == 12 and max(held) - min(held) <= 1, held
        for client in clients:  # and the counts follow connections that close
            client.close()
        clients = []
        for _ in range(4):
            status, _ = _answers(port)
            assert status == 200
    finally:
        for client in clients:
            client.close()
        if server.poll() is None:
            server.kill()
            server.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked servers and /proc: Linux")
def test_a_server_process_that_dies_stops_the_rest_with_exit_1(index):
    import signal
    import time

    server, port = _serve(index, "--processes", "2")
    try:
        _answers(port)
        deadline = time.monotonic() + 30
        while len(_servers_of(server.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(_servers_of(server.pid)[0], signal.SIGKILL)
        _, err = server.communicate(timeout=30)
        assert server.returncode == 1 and "stopping the others" in err
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_zero_processes_is_a_usage_error(index):
    done = kb("serve", "--processes", "0", "--index", index)
    assert done.returncode == 2 and "--processes" in done.stderr
    _no_traceback(done)


def test_print_config_masks_secrets(tmp_path):
    config = tmp_path / "kb.toml"
    config.write_text('port = 8123\nadmin_token = "s3cret"\n', encoding="utf-8")
    done = kb("serve", "--config", str(config), "--print-config", env={"KB_PORT": "", "KB_ADMIN_TOKEN": ""})
    assert done.returncode == 0 and "port = 8123" in done.stdout and "s3cret" not in done.stdout
    flags = kb("serve", "--config", str(config), "--port", "9000", "--print-config", env={"KB_PORT": "8500"})
    assert "port = 9000" in flags.stdout  # flags > environment > file
    env = kb("serve", "--config", str(config), "--print-config", env={"KB_PORT": "8500"})
    assert "port = 8500" in env.stdout
    config.write_text("colour = 1\n", encoding="utf-8")
    bad = kb("serve", "--config", str(config), "--print-config")
    assert bad.returncode == 2 and "unknown setting" in bad.stderr


def test_ingest_log_file_has_the_failures(tmp_path, make_docs):
    root = make_docs({"ok.txt": "报告\n正文。", "bad.docx": b"PK\x03\x04broken"})
    log = tmp_path / "ingest.log"
    done = kb("ingest", str(root), "--index", str(tmp_path / "index"), "--log-file", str(log), "--quiet")
    assert done.returncode == 1
    text = log.read_text(encoding="utf-8")
    assert "bad.docx" in text and "failed" in text and "1 added" in text
