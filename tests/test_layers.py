"""The packages point one way: rasp (the language) ← programs, compiler ← experiments ← rasp_cli (the command
line). A module may import its own package and the layers below, never one beside or above it (docs/architecture.md)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"rasp": 0, "programs": 1, "compiler": 1, "experiments": 2, "rasp_cli": 3}


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            found.append((node.lineno, "<dynamic import>"))
    return found


def test_no_import_points_up_or_sideways():
    wrong = []
    for package, layer in LAYERS.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, module in _imports(path):
                top = module.split(".")[0]
                if module == "<dynamic import>" or (top in LAYERS and top != package and LAYERS[top] >= layer):
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from experiments import commands\nimport importlib\nimportlib.import_module('compiler')\n")
    assert [m for _, m in _imports(bad)] == ["experiments", "importlib", "<dynamic import>"]


def _module_graph():
    """Module → the project's modules it imports, anywhere in it (a lazy import inside a function counts too)."""
    import networkx as nx

    modules = {}
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    graph = nx.DiGraph()
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules]
                targets = submodules or [target]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            graph.add_edges_from((name, t) for t in targets if t in modules and t != name)
    return graph


def test_no_import_cycle_between_modules():
    import networkx as nx

    cycles = [" → ".join(cycle) for cycle in nx.simple_cycles(_module_graph())]
    assert not cycles, "\n".join(cycles)


def test_the_two_studies_share_the_trainer_core_and_nothing_else():
    allowed = {"training": set(), "length": {"training"}, "compiled": {"training"}}
    graph = _module_graph()
    study = {m: m.split(".")[1] for m in graph.nodes if m.count(".") >= 2 and m.startswith("experiments.")}
    wrong = [
        f"{a} imports {b}"
        for a, b in graph.edges
        if a in study and b in study and study[b] != study[a] and study[b] not in allowed[study[a]]
    ]
    assert not wrong, "\n".join(wrong)
