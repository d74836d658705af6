"""Reading Timeloop YAML files as untrusted input through einsim's bounded loader (size, nesting and alias
expansion limited, UTF-8 only), Timeloop's node tags (``!Container``, ``!Component``, ``!Parallel``, ``!Nothing``, ...) kept as data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from einsim.errors import EinsimError
from einsim.yamlsrc import BoundedSafeLoader, load_plain, read_text_file

class _Loader(BoundedSafeLoader):
    """The bounded safe loader plus Timeloop's tags: a tagged node becomes a dict with ``__tag__``."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        data = loader.construct_mapping(node, deep=True)
    elif isinstance(node, yaml.SequenceNode):
        data = {"nodes": loader.construct_sequence(node, deep=True)}
    else:
        value = loader.construct_scalar(node)
        data = {"value": value} if value else {}
    data["__tag__"] = suffix
    return data


_Loader.add_multi_constructor("!", _tagged)


def read_yaml(path: Path) -> Any:
    """The data of one Timeloop YAML file, with einsim's limits on size, nesting and alias
    expansion; every failure is an EinsimError naming the file."""
    return load_plain(read_text_file(path), str(path), _Loader)


def read_timeloop(path: Path) -> Any:
    """``read_yaml``, refusing Sparseloop inputs: einsim models dense tensors only."""
    data = read_yaml(path)
    if isinstance(data, dict) and data.get("sparse_optimizations"):
        raise EinsimError(f"{path}: sparse_optimizations is a Sparseloop (sparse) feature, which einsim does not model")
    return data


def section(data: Any, key: str, path: Path, kind: type = dict, within: str = "") -> Any:
    """``data[key]`` of a file's mapping (``within`` names the enclosing section), checked to be of ``kind``."""
    label = f"{within}.{key}" if within else key
    if not isinstance(data, dict) or key not in data:
        raise EinsimError(f"{path}: no '{label}:' (a Timeloop v0.4 {within or key} file has one)")
    value = data[key]
    if not isinstance(value, kind):
        raise EinsimError(f"{path}: '{label}:' must be a {'list' if kind is list else 'mapping'}")
    return value
