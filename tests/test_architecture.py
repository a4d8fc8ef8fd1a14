"""The code's shape, held by tests: no import cycles, no private names imported across modules,
``kb`` never imports ``web``, modules small unless they say why."""

from __future__ import annotations

import ast
from pathlib import Path

from support import ROOT

PACKAGES = ("kb", "web")
MAX_LINES = 400
LONG_REASON = "Why this module is long:"  # in the module docstring of a longer module


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]):
    """(imported project module, imported names) for every import in the file, late ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    yield _known(alias.name, modules), ()
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in modules:  # "from kb import analysis": the submodule
                    yield sub, ()
                else:
                    yield _known(target, modules), (alias.name,)


def _known(target: str, modules) -> str:
    while target and target not in modules:
        target = target.rpartition(".")[0]
    return target


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, path in modules.items():
        for target, _ in _imports(name, path, modules):
            if target and target != name and not name.startswith(target + "."):  # a package's own parents
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_kb_never_imports_web():
    graph = _graph()
    offenders = {m: sorted(t for t in targets if t.split(".")[0] == "web") for m, targets in graph.items()
                 if m.split(".")[0] == "kb"}
    assert not {m: t for m, t in offenders.items() if t}


def test_private_names_are_not_imported_across_modules():
    modules = _modules()
    offenders = []
    for name, path in modules.items():
        for target, names in _imports(name, path, modules):
            offenders += [f"{name} imports {target}.{n}" for n in names if n.startswith("_") and not n.startswith("__")]
    assert offenders == []


def test_modules_are_small_or_say_why():
    long = []
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > MAX_LINES and LONG_REASON not in docstring:
            long.append(f"{name}: {text.count(chr(10))} lines")
    assert long == []


def test_indexes_made_before_the_split_still_unpickle_their_schema():
    """Whoosh pickles the schema into the index: classes once defined in kb.index must stay there."""
    import pickle

    from kb import index as kbindex

    for name in ("AnalyzedText", "ArrayPositions", "CountsHere", "GramText", "PositionalText", "ListField"):
        old = pickle.dumps(getattr(kbindex, name), protocol=0).replace(getattr(kbindex, name).__module__.encode(), b"kb.index")
        assert pickle.loads(old) is getattr(kbindex, name)
