"""The import graph of `pipeline/`: no circles, and each package imports only itself and the packages below it.

Every `import` and `from ... import` is read with `ast`, function-level (lazy) imports included: a
circle hidden in a function body is still a circle. The layers are docs/architecture.md's.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAYERS = [  # bottom to top; "" is pipeline/ itself (the run and the commands)
    "core",  # errors, frozen records, private files, settings, model files: imports no other package
    "storage",  # the DuckDB file: opening it, numbered migrations, writing calls
    "audio",  # the inbox: recordings found and decoded, speech to timed words, transcript files, outcomes
    "voices",  # who said each word: stereo channels, voice prints, mono split, enrolled reps
    "language",  # rep turns into pitch phrases, their kinds and embeddings, the prospect's reactions, leads, redaction
    "analysis",  # wording clusters, descriptors (benefits), statistics, evidence, the leaderboard
    "reporting",  # the HTML report
    "",  # the run over an inbox (process, analyze, ray_engine, watch) and the commands (cli, ...)
]


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under root/pipeline."""
    base = root / "pipeline"
    out = {}
    for path in sorted(base.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(root: Path) -> dict[str, set[str]]:
    """Module -> the pipeline modules it imports (a package's __init__ when a package itself is imported)."""
    mods = modules(root)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            found = []
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                found = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for target in found:
                while target and target not in mods:  # pipeline.x.name -> pipeline.x
                    target = target.rpartition(".")[0]
                if target and target != name and (target != "pipeline" or name.count(".") == 1):
                    graph[name].add(target)
    return graph


def layer(module: str) -> str:
    """The package a module belongs to: "core" for pipeline.core.errors, "" for pipeline.cli and pipeline itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else ""


def upward(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if target == "pipeline":
                continue
            if LAYERS.index(layer(target)) > LAYERS.index(layer(module)):
                out.append(f"{module} imports {target}: {layer(target) or 'the top'} is above {layer(module)}")
    return out


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_every_package_is_in_the_layer_table():
    packages = {p.parent.name for p in (ROOT / "pipeline").glob("*/__init__.py")}
    assert packages == set(LAYERS) - {""}, "add the new package to LAYERS (and docs/architecture.md)"


def test_no_module_imports_an_upper_layer():
    assert upward(imports(ROOT)) == []


def test_no_import_circles():
    assert circles(imports(ROOT)) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / "pipeline" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_an_upward_import_is_found_even_inside_a_function(tmp_path):
    low, high = LAYERS[0], LAYERS[1]
    root = _tree(tmp_path, {"__init__.py": "", f"{low}/__init__.py": "", f"{high}/__init__.py": "",
                            f"{low}/a.py": f"def f():\n    from pipeline.{high} import b\n",
                            f"{high}/b.py": f"from ..{low}.a import f\n"})
    assert upward(imports(root)) == [f"pipeline.{low}.a imports pipeline.{high}.b: {high} is above {low}"]
    assert circles(imports(root)) == [sorted([f"pipeline.{high}.b", f"pipeline.{low}.a"])]


def test_a_circle_inside_one_package_is_found(tmp_path):
    pkg = LAYERS[0]
    root = _tree(tmp_path, {"__init__.py": "", f"{pkg}/__init__.py": "",
                            f"{pkg}/a.py": "from . import b\n", f"{pkg}/b.py": "def g():\n    from .a import x\n"})
    assert upward(imports(root)) == []
    assert circles(imports(root)) == [[f"pipeline.{pkg}.a", f"pipeline.{pkg}.b"]]
