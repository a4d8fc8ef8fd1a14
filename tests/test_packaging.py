"""The package as a user installs it: pyproject.toml agrees with the lock (requirements.txt), the
wheel holds the code and its data files but not samples/ or tests/, and a fresh venv with only
the wheel installed runs ``kb --version``, ``kb ingest``, ``kb search --all --jsonl`` and
``kb serve``. No network: the wheel is built with the backend already in .venv, installed with
``--no-deps --no-index``, and its dependencies come from .venv's site-packages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
import urllib.request
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import kb

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _lock() -> dict[str, Requirement]:
    """requirements.txt as {canonical name: requirement}; every line must be an exact pin."""
    pins = {}
    for number, line in enumerate((ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines(), 1):
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"requirements.txt:{number}: not an exact pin: {line}"
        pins[canonicalize_name(req.name)] = req
    return pins


def _declared() -> list[str]:
    project = PYPROJECT["project"]
    extras = [r for group in project.get("optional-dependencies", {}).values() for r in group]
    return project["dependencies"] + extras + PYPROJECT["build-system"]["requires"]


def test_every_declared_package_is_pinned_in_the_lock_within_its_range():
    pins = _lock()
    for line in _declared():
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in pins, f"pyproject.toml declares {req.name} but requirements.txt does not pin it"
        pinned = next(iter(pins[name].specifier)).version
        assert req.specifier.contains(pinned, prereleases=True), \
            f"requirements.txt pins {req.name}=={pinned}, outside pyproject.toml's range {req.specifier}"


def test_the_lock_pins_what_the_declared_packages_need():
    """Every installed requirement of a declared runtime package is in the lock too (transitively)."""
    pins = _lock()
    seen, todo = set(), [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        assert name in pins, f"{req.name} (needed by a dependency) is not pinned in requirements.txt"
        for sub in metadata.requires(req.name) or []:
            sub_req = Requirement(sub)
            if sub_req.marker is None or sub_req.marker.evaluate({"extra": ""}):
                todo.append(sub_req)


def test_every_locked_package_has_its_licence_listed():
    """docs/licences.md lists every package of requirements.txt, at the pinned version, with a licence."""
    listed = {}
    for line in (ROOT / "docs" / "licences.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 4 and cells[0] != "package" and not set(cells[0]) <= {"-"}:
            listed[canonicalize_name(cells[0])] = cells
    for name, req in _lock().items():
        assert name in listed, f"{req.name} is pinned in requirements.txt but missing from docs/licences.md"
        _, version, licence, _ = listed[name]
        assert version == next(iter(req.specifier)).version, f"docs/licences.md lists {req.name} {version}"
        assert licence, f"docs/licences.md gives no licence for {req.name}"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert PYPROJECT["project"]["license"] == "MIT"


def test_the_version_comes_from_the_package():
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "kb.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", kb.__version__)


def test_console_script_and_entry_point_declared():
    assert PYPROJECT["project"]["scripts"] == {"kb": "kb.cli:main"}
    assert PYPROJECT["project"]["entry-points"]["kb.commands"] == {"serve": "web.cli:register"}


def test_setup_installs_the_project_editable():
    """./setup.sh put the project in .venv (the `kb` command, its entry points), when this runs there."""
    try:
        dist = metadata.distribution("kb")
    except metadata.PackageNotFoundError:
        pytest.skip("the project is not installed in this environment (./setup.sh installs it)")
    assert dist.version == kb.__version__
    assert {(e.name, e.value) for e in dist.entry_points if e.group == "kb.commands"} == {("serve", "web.cli:register")}
    assert {(e.name, e.value) for e in dist.entry_points if e.group == "console_scripts"} == {("kb", "kb.cli:main")}
    setup = (ROOT / "setup.sh").read_text(encoding="utf-8")
    assert all(name in setup for name in ("pyproject.toml", "setup.py", "kb/*_c.c"))  # re-run when they change
    assert sorted(p.name for p in (ROOT / "kb").glob("*_c.c")) == ["bitpack_c.c", "phrases_c.c", "shingles_c.c"]


# --- the wheel, installed in a fresh venv ------------------------------------------------------------


def _copy_source(target: Path) -> Path:
    """The working tree's package sources (built away from the tree: no build/ or egg-info left there,
    and no stale build/lib). samples/ and tests/ come along to show that they stay out of the wheel."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "screenshots", "*.so")  # the wheel builds its own
    for name in ("kb", "web", "samples", "tests"):
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE", "ingest.py"):
        shutil.copy2(ROOT / name, target / name)
    return target


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = _copy_source(tmp_path_factory.mktemp("src"))
    dist = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "--quiet", "-w", str(dist), str(src)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    wheels = list(dist.glob("kb-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.mark.slow
def test_wheel_holds_code_and_data_not_samples_or_tests(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    compiled = sorted(n.split(".")[0] for n in names if n.startswith("kb/") and n.endswith(".so"))
    if shutil.which(os.environ.get("CC", "cc")):  # the C inner loops are built, and the wheel is for this platform
        assert compiled == ["kb/bitpack_c", "kb/phrases_c", "kb/shingles_c"] and wheel.name.startswith(f"kb-{kb.__version__}-cp3"), (wheel.name, compiled)
    else:  # without a compiler the build goes on: a pure wheel, numpy loops
        assert wheel.name == f"kb-{kb.__version__}-py3-none-any.whl" and not compiled
    tops = {n.split("/", 1)[0] for n in names}
    assert tops == {"kb", "web", f"kb-{kb.__version__}.dist-info"}, tops  # no samples/, tests/, bench/, tools/
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    # every data file of the source tree, and every module
    for folder in ("kb", "web"):
        for path in (ROOT / folder).rglob("*"):
            # every file but bytecode and the C source and its build (the wheel carries its own build)
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".c", ".so"):
                assert path.relative_to(ROOT).as_posix() in names, f"{path.relative_to(ROOT)} missing from the wheel"
    for must in ("kb/data/userdict.txt", "kb/data/places/rules.toml", "web/templates/search.html",
                 "web/static/style.css", "kb/cli/__init__.py", "web/cli.py"):
        assert must in names
    info = f"kb-{kb.__version__}.dist-info"
    assert f"{info}/licenses/LICENSE" in names
    entry_points = zipfile.ZipFile(wheel).read(f"{info}/entry_points.txt").decode()
    assert "[console_scripts]\nkb = kb.cli:main" in entry_points
    assert "[kb.commands]\nserve = web.cli:register" in entry_points
    meta = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    assert "License-Expression: MIT" in meta and "Requires-Dist: Whoosh-Reloaded" in meta


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with only the wheel installed; the dependencies are .venv's (a path in a .pth file,
    so .venv's own .pth files, the editable install among them, are not run)."""
    venv = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "kb-deps-from-project-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                           "--quiet", str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return venv


def _run(venv: Path, *args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KB_", "PYTHON"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.slow
def test_installed_wheel_runs_the_kb_command(installed, tmp_path):
    work = tmp_path / "elsewhere"  # not the source tree: nothing imports from there
    work.mkdir()
    where = _run(installed, "python", "-c", "import kb, web.cli; print(kb.__file__); print(web.cli.__file__)", cwd=work)
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert Path(line).is_relative_to(installed), f"imported from {line}, not from the installed wheel"

    version = _run(installed, "kb", "--version", cwd=work)
    assert (version.returncode, version.stdout.strip()) == (0, f"kb {kb.__version__}"), version.stderr

    index = tmp_path / "index"
    ingest = _run(installed, "kb", "ingest", str(ROOT / "samples"), "--index", str(index), cwd=work)
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    assert re.search(r"[1-9]\d* added", ingest.stdout + ingest.stderr)

    search = _run(installed, "kb", "search", "乡村振兴", "--all", "--jsonl", "--index", str(index), cwd=work)
    assert search.returncode == 0, search.stderr
    hits = [json.loads(line) for line in search.stdout.splitlines() if line.strip()]
    assert len(hits) >= 2 and all(h.get("id") for h in hits)

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KB_", "PYTHON"))}
    # Ctrl-C reaches it as from a terminal: a suite run as a background job (`./test.sh &`) ignores
    # SIGINT, and an ignored signal stays ignored in every program it starts
    server = subprocess.Popen([str(installed / "bin" / "kb"), "serve", "--port", str(port), "--index", str(index)],
                              cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        body, deadline = None, time.monotonic() + 60
        while body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/?q=%E4%B9%A1%E6%9D%91%E6%8C%AF%E5%85%B4",
                                            timeout=10) as answer:
                    assert answer.status == 200
                    body = answer.read().decode("utf-8")
            except OSError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "kb serve did not answer within 60 s"
                time.sleep(0.2)
        assert "检索结果" in body and "乡村振兴" in body  # the page, from the wheel's templates
    finally:
        server.send_signal(signal.SIGINT)
        try:
            _, err = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            _, err = server.communicate()
    assert server.returncode == 0, err
    assert f"127.0.0.1:{port}" in err
