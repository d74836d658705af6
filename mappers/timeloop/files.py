"""Reading Timeloop YAML files as untrusted input: bounded size, nesting and alias expansion, UTF-8 only,
Timeloop's node tags (``!Container``, ``!Component``, ``!Parallel``, ``!Nothing``, ...) kept as data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from einsim.errors import EinsimError

MAX_FILE_BYTES = 8 * 1024 * 1024  # the largest exercise file (an ART/ERT of a big design) is ~100 KiB
MAX_NODES = 1_000_000  # YAML nodes after alias expansion
MAX_DEPTH = 64  # nesting of mappings and lists


class _Loader(yaml.SafeLoader):
    """The safe loader plus Timeloop's tags: a tagged node becomes a dict with ``__tag__``."""


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


def _check_size(node: yaml.Node, path: Path) -> None:
    """Refuse documents that expand (aliases count every time they are used) beyond the limits."""
    count = 0
    stack: list[tuple[yaml.Node, int]] = [(node, 1)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise EinsimError(f"{path}: more than {MAX_NODES} YAML nodes after expanding aliases (an alias bomb?)")
        if depth > MAX_DEPTH:
            raise EinsimError(f"{path}: YAML nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, yaml.MappingNode):
            stack.extend((v, depth + 1) for pair in item.value for v in pair)
        elif isinstance(item, yaml.SequenceNode):
            stack.extend((v, depth + 1) for v in item.value)


def read_yaml(path: Path) -> Any:
    """The data of one Timeloop YAML file; every failure is an EinsimError naming the file."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise EinsimError(f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, not a Timeloop input")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise EinsimError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise EinsimError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise EinsimError(f"{path}: cannot read ({exc.strerror or exc})") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(node, path)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise EinsimError(f"{where}: YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise EinsimError(f"{path}: YAML error: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise EinsimError(f"{path}: YAML nested too deeply") from None
    finally:
        loader.dispose()


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
