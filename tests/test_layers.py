"""The dependency direction of the layout: payloads <- formats <- bench -> reports (results only)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"payloads", "formats", "bench", "reports"}
ALLOWED = {
    "payloads": {"payloads"},
    "formats": {"payloads", "formats"},
    "bench": {"payloads", "formats", "bench", "reports"},
    # the results file's contract (reports/results.py) and its pure statistics (reports/stats.py) live
    # here, so measuring (bench) and rendering both use them and reports imports nothing from bench
    "reports": {"reports", "payloads"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {m for m in found if m.split(".")[0] in OURS}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_layer_imports_only_inner_layers(package):
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for mod in _imports(path):
            if mod.split(".")[0] not in ALLOWED[package]:
                bad.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert not bad, "\n".join(bad)


def test_reports_read_only_the_results_file_format():
    bad = []
    for path in sorted((ROOT / "reports").rglob("*.py")):
        for mod in _imports(path):
            if mod.split(".")[0] != "reports" and mod != "payloads.errors":
                bad.append(f"{path.relative_to(ROOT)} imports {mod}")
    assert not bad, "\n".join(bad)


def test_only_the_isolation_module_starts_processes():
    """formats/isolation.py is the one place that starts a child (bench/environment.py runs git)."""
    allowed = {"formats/isolation.py", "bench/environment.py"}
    bad = []
    for package in sorted(OURS):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            tree = ast.parse(path.read_text(), filename=rel)
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(n.split(".")[0] in ("subprocess", "multiprocessing") for n in names) and rel not in allowed:
                    bad.append(f"{rel} imports {names}")
                if isinstance(node, ast.Attribute) and node.attr in ("fork", "forkpty", "posix_spawn", "spawnv"):
                    if isinstance(node.value, ast.Name) and node.value.id == "os" and rel not in allowed:
                        bad.append(f"{rel} calls os.{node.attr}")
    assert not bad, "\n".join(bad)


def test_formats_registers_no_cli_commands():
    for path in sorted((ROOT / "formats").rglob("*.py")):
        text = path.read_text()
        assert "add_parser(" not in text, f"{path.relative_to(ROOT)} registers a CLI command (bench/cli.py does)"


def _module_graph() -> dict[str, set[str]]:
    """First-party module -> first-party modules it imports (anywhere in the file, in-function too)."""
    mods = {}
    for package in sorted(OURS):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
            mods[name] = path
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps = set()
        for mod in _imports(path):
            while mod and mod not in mods:  # "from payloads.model import X" -> payloads.model
                mod = mod.rpartition(".")[0]
            if mod and mod != name:
                deps.add(mod)
        graph[name] = deps
    return graph


def test_no_first_party_import_cycles():
    graph = _module_graph()
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, stack + [dep])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)
