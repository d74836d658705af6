"""A Timeloop v0.4 architecture (``architecture.nodes``) as storage levels with instance counts and fan-outs.

Nodes are read in order, as Timeloop flattens them: a ``!Container`` or ``!Component`` with
``spatial: {meshX, meshY}`` multiplies the instances of everything after it, ``!Parallel`` lists
sibling nodes (e.g. per-tensor scratchpads) that Timeloop stacks as consecutive levels, and
``!Nothing`` is a placeholder without hardware. A container's fan-out belongs to the storage level
just above it; that is where its spatial mapping entries go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from einsim.errors import EinsimError

COMPUTE_CLASSES = ("intmac", "fpmac", "mac", "compute")
_TAGS = ("Container", "Component", "Parallel", "Hierarchical", "Nothing", "Storage", "Compute")


@dataclass
class Container:
    name: str
    mesh_x: int
    mesh_y: int
    constraints: dict[str, Any]
    above: str | None = None  # the storage level whose fan-out this container provides

    @property
    def fanout(self) -> int:
        return self.mesh_x * self.mesh_y


@dataclass
class Component:
    name: str
    klass: str
    attributes: dict[str, Any]
    constraints: dict[str, Any]
    instances: int
    containers: list[Container] = field(default_factory=list)  # fan-out containers right below it
    tag: str = "Component"

    @property
    def is_compute(self) -> bool:
        return self.tag == "Compute" or (self.tag == "Component" and self.klass.lower() in COMPUTE_CLASSES)


def _positive(value: Any, what: str, where: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise EinsimError(f"{where}: {what} must be a positive whole number, got {value!r}")
    return value


def _mesh(node: dict, where: Path) -> tuple[int, int]:
    mesh = node.get("spatial") or {}
    if not isinstance(mesh, dict):
        raise EinsimError(f"{where}: {node.get('name')}: 'spatial:' must be a mapping like {{meshX: 4, meshY: 2}}")
    unknown = [k for k in mesh if k not in ("meshX", "meshY")]
    if unknown:
        raise EinsimError(f"{where}: {node.get('name')}: unknown spatial key {unknown[0]!r} (valid: meshX, meshY)")
    return (_positive(mesh.get("meshX", 1), f"{node.get('name')}: meshX", where),
            _positive(mesh.get("meshY", 1), f"{node.get('name')}: meshY", where))


def flatten(nodes: Any, where: Path) -> tuple[list[Component], list[Container]]:
    """Storage and compute components in Timeloop's order (outermost first), and the fan-out containers."""
    if not isinstance(nodes, list) or not nodes:
        raise EinsimError(f"{where}: architecture.nodes must be a non-empty list (Timeloop v0.4)")
    components: list[Component] = []
    containers: list[Container] = []
    instances = 1

    def add_fanout(container: Container) -> None:
        nonlocal instances
        storage = [c for c in components if not c.is_compute]
        if not storage:
            raise EinsimError(f"{where}: {container.name} fans out above the first storage level, which einsim cannot map")
        container.above = storage[-1].name
        storage[-1].containers.append(container)
        containers.append(container)
        instances *= container.fanout

    def visit(items: list[Any]) -> None:
        nonlocal instances
        for node in items:
            if not isinstance(node, dict) or "__tag__" not in node:
                raise EinsimError(f"{where}: architecture nodes are tagged mappings (!Container, !Component, ...), got {node!r:.60}")
            tag = node["__tag__"]
            if tag not in _TAGS:
                raise EinsimError(f"{where}: unknown architecture node tag !{tag} (valid: !{', !'.join(_TAGS)})")
            if tag in ("Parallel", "Hierarchical"):
                children = node.get("nodes")
                if not isinstance(children, list):
                    raise EinsimError(f"{where}: !{tag} needs a 'nodes:' list")
                visit(children)
            elif tag == "Nothing":
                continue
            elif tag == "Container":
                x, y = _mesh(node, where)
                if x * y > 1:
                    add_fanout(Container(str(node.get("name")), x, y, dict(node.get("constraints") or {})))
            else:
                name = node.get("name")
                if not isinstance(name, str) or not name:
                    raise EinsimError(f"{where}: a !{tag} needs a name")
                attrs = node.get("attributes") or {}
                if not isinstance(attrs, dict):
                    raise EinsimError(f"{where}: {name}: 'attributes:' must be a mapping")
                sparse = [a for a in attrs if str(a).startswith("metadata_")]
                if sparse:
                    raise EinsimError(f"{where}: {name}: {sparse[0]} is a Sparseloop (sparse) feature, which einsim does not model")
                if any(c.name == name for c in components):
                    raise EinsimError(f"{where}: two components are named {name!r}")
                x, y = _mesh(node, where)
                if x * y > 1:  # an array of this component: the fan-out is below the level above it
                    add_fanout(Container(name, x, y, dict(node.get("constraints") or {})))
                comp = Component(name, str(node.get("class", "")), dict(attrs), dict(node.get("constraints") or {}), instances,
                                 tag=tag)
                components.append(comp)

    visit(nodes)
    return components, containers
