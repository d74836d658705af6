"""The import graph of the installed einsim packages runs one way (DESIGN §1).

Every ``import`` and ``from … import`` in the package sources is read with ``ast`` (including
imports inside functions and under ``TYPE_CHECKING``: a lazy import is still a dependency), and
each is reduced to the pair (importing package, imported package).
"""

from __future__ import annotations

import ast
import importlib
import itertools
from pathlib import Path

import networkx as nx
import pytest

PACKAGES = ("einsum", "arch", "sim", "mappers", "explore", "reproduce")
# what each package may import besides the base layer (einsim/), the bundled data (einsim.designs)
# and itself; nothing may import reproduce (the CLI reaches it through entry points)
ALLOWED = {
    "einsum": set(),
    "arch": set(),
    "sim": {"einsum", "arch"},
    "mappers": {"sim", "einsum", "arch"},
    "explore": {"sim", "einsum", "arch", "mappers"},
    "reproduce": {"sim", "einsum", "arch", "mappers", "explore"},
}


def _package_dirs() -> dict[str, Path]:
    out = {}
    for name in PACKAGES:
        try:
            module = importlib.import_module(f"einsim.{name}")
        except ModuleNotFoundError:
            continue
        out[name] = Path(next(iter(module.__path__)))
    return out


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Fully qualified modules a source imports (relative imports resolved against ``module``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".")
                base = parts[: len(parts) - node.level + int(is_package)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{a.name}" for a in node.names)
    return names


def import_edges(dirs: dict[str, Path]) -> dict[tuple[str, str], list[str]]:
    """(importer package, imported package) -> the files where that import occurs."""
    edges: dict[tuple[str, str], list[str]] = {}
    for pkg, root in dirs.items():
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            is_package = rel.name == "__init__"
            parts = [p for p in rel.parts if p != "__init__"]
            module = ".".join(["einsim", pkg, *parts])
            for name in _imported(ast.parse(path.read_text(), str(path)), module, is_package):
                bits = name.split(".")
                if len(bits) >= 2 and bits[0] == "einsim" and bits[1] in dirs and bits[1] != pkg:
                    edges.setdefault((pkg, bits[1]), []).append(f"{pkg}/{rel}.py")
    return edges


@pytest.fixture(scope="module")
def edges() -> dict[tuple[str, str], list[str]]:
    dirs = _package_dirs()
    assert {"einsum", "arch", "sim", "mappers", "explore"} <= set(dirs)
    return import_edges(dirs)


def test_the_reader_sees_the_known_imports(edges: dict[tuple[str, str], list[str]]) -> None:
    """The graph is not empty by accident: imports every layer is known to make are found."""
    assert {("sim", "einsum"), ("mappers", "sim"), ("explore", "mappers")} <= set(edges)


def test_sim_imports_neither_mappers_nor_explore(edges: dict[tuple[str, str], list[str]]) -> None:
    bad = {k: v for k, v in edges.items() if k[0] == "sim" and k[1] in ("mappers", "explore", "reproduce")}
    assert not bad, f"sim imports against the flow: {bad}"


def test_every_import_runs_with_the_flow(edges: dict[tuple[str, str], list[str]]) -> None:
    bad = {k: v for k, v in edges.items() if k[1] not in ALLOWED[k[0]]}
    assert not bad, f"imports against DESIGN §1: {bad}"


def test_nothing_imports_reproduce(edges: dict[tuple[str, str], list[str]]) -> None:
    bad = {k: v for k, v in edges.items() if k[1] == "reproduce"}
    assert not bad, f"reproduce is a leaf (DESIGN §1): {bad}"


def test_reproduce_is_read_and_imports_the_layers_below(edges: dict[tuple[str, str], list[str]]) -> None:
    assert {("reproduce", "mappers"), ("reproduce", "sim")} & set(edges)
    assert "reproduce" in _package_dirs()


def test_no_cycle_between_packages(edges: dict[tuple[str, str], list[str]]) -> None:
    cycles = list(itertools.islice(nx.simple_cycles(nx.DiGraph(list(edges))), 5))
    assert not cycles, f"import cycles between packages: {cycles}"


def test_a_cycle_and_a_backward_import_are_caught(tmp_path: Path) -> None:
    """The checks fail on a graph that breaks the rules (so they can fail at all)."""
    for pkg, src in {"sim": "from einsim.mappers.x import y\n", "mappers": "from ..sim import z\n"}.items():
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
        (tmp_path / pkg / "m.py").write_text(src)
    edges = import_edges({"sim": tmp_path / "sim", "mappers": tmp_path / "mappers"})
    assert set(edges) == {("sim", "mappers"), ("mappers", "sim")}
    assert list(nx.simple_cycles(nx.DiGraph(list(edges))))
    (tmp_path / "explore").mkdir()
    (tmp_path / "explore" / "__init__.py").write_text("import einsim.reproduce.powerinfer2\n")
    (tmp_path / "reproduce").mkdir()
    (tmp_path / "reproduce" / "__init__.py").write_text("")
    assert ("explore", "reproduce") in import_edges({"explore": tmp_path / "explore", "reproduce": tmp_path / "reproduce"})
