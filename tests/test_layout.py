"""The house rules, read from the source: layers, no import cycles, one import name, small files."""
import ast
import re
import tomllib
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"checker": "ksecheck.checker", "model": "ksecheck.model",
           "properties": "ksecheck.properties", "reports": "ksecheck.reports", "ksecheck": "ksecheck"}
"""Top-level folders and the import names they install as."""

LAYERS = ["errors", "core", "results", "explicit", "symbolic", ""]
"""The checker's layers, lowest first; "" is the package's top (its API, regress). A module
imports only from its own layer and the layers below."""


def modules() -> dict[str, Path]:
    """Every module of the installed packages by its full import name."""
    out = {}
    for folder, name in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join((name, *parts))] = path
    return out


MODULES = modules()


def imports(name: str, path: Path) -> set[str]:
    """The modules of ours that ``name`` imports (at any depth in the file)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = nx.DiGraph([(a, b) for a, p in MODULES.items() for b in imports(a, p)])


def layer(name: str) -> int:
    parts = name.split(".")
    return LAYERS.index(parts[2] if len(parts) > 2 and parts[2] in LAYERS else "")


def test_the_checker_imports_nothing_above_it():
    upward = [(a, b) for a, b in GRAPH.edges
              if a.startswith("ksecheck.checker") and not b.startswith("ksecheck.checker")]
    assert upward == []


def test_checker_layers_import_only_downward():
    wrong = [(a, b) for a, b in GRAPH.edges if a.startswith("ksecheck.checker.")
             and b.startswith("ksecheck.checker.") and layer(b) > layer(a)]
    assert wrong == []


def test_there_are_no_import_cycles():
    assert list(nx.simple_cycles(GRAPH)) == []


def test_model_and_properties_do_not_know_the_registry_reports_or_command_line():
    above = ("ksecheck.registry", "ksecheck.reports", "ksecheck.cli")
    wrong = [(a, b) for a, b in GRAPH.edges
             if a.startswith(("ksecheck.model", "ksecheck.properties")) and b.startswith(above)]
    assert wrong == []


def test_everything_imports_through_the_one_name():
    bare = re.compile(r"^\s*(from|import)\s+(checker|model|properties|reports)\b", re.M)
    files = [p for folder in (*FOLDERS, "tests", "benchmarks") for p in (ROOT / folder).rglob("*.py")]
    assert [str(p.relative_to(ROOT)) for p in files if bare.search(p.read_text())] == []


def test_every_package_is_installed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = {n for n, p in MODULES.items() if p.name == "__init__.py"}
    assert set(config["packages"]) == packages
    assert config["package-dir"] == {name: folder for folder, name in FOLDERS.items()}


def test_checker_modules_are_small():
    long = {n: len(p.read_text().splitlines()) for n, p in MODULES.items()
            if n.startswith("ksecheck.checker")}
    assert {n: k for n, k in long.items() if k > 500} == {}
