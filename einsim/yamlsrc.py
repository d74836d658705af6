"""Safe YAML loading that remembers where every value came from, for located error messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from einsim.errors import EinsimError, Location

PathKey = tuple[Any, ...]


@dataclass
class YamlSource:
    """Plain Python data loaded from YAML plus the location of every node, keyed by its path."""

    data: Any
    file: str
    marks: dict[PathKey, Location] = field(default_factory=dict)
    key_marks: dict[PathKey, Location] = field(default_factory=dict)
    text: str = ""

    def where(self, *path: Any) -> Location:
        """Location of the node at ``path`` or of its closest ancestor that has one."""
        path = tuple(path)
        while path not in self.marks and path:
            path = path[:-1]
        return self.marks.get(path, Location(self.file))

    def key_where(self, *path: Any) -> Location:
        """Location of the key of the mapping entry at ``path`` (falls back to ``where``)."""
        return self.key_marks.get(tuple(path)) or self.where(*path)

    def block_line(self, path: PathKey, index: int) -> tuple[int, int]:
        """(line, column) of line ``index`` inside the literal block scalar at ``path``.

        Block scalars (``|``) keep one text line per file line, so the n-th content line sits
        n lines below the line that holds the indicator; the column is the block's indent.
        """
        loc = self.where(*path)
        lines = self.text.splitlines()
        first = loc.line  # the indicator's line is loc.line (1-based); content starts after it
        line_no = first + 1 + index
        if 1 <= line_no <= len(lines):
            content = lines[line_no - 1]
            indent = len(content) - len(content.lstrip(" "))
            return line_no, indent + 1
        return loc.line, loc.column


def _build(node: yaml.Node, path: PathKey, src: YamlSource, constructor: yaml.SafeLoader) -> Any:
    src.marks[path] = Location(src.file, node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if isinstance(key, list):
                raise EinsimError("a mapping key must be a scalar", src.marks[path])
            if key in out:
                raise EinsimError(
                    f"duplicate key {key!r}",
                    Location(src.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1),
                )
            src.key_marks[path + (key,)] = Location(src.file, key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _build(value_node, path + (key,), src, constructor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), src, constructor) for i, item in enumerate(node.value)]
    value = constructor.construct_object(node, deep=True)
    if isinstance(node, yaml.ScalarNode) and node.style == "|":
        # remember that this is a literal block so line numbers inside it are exact
        src.marks[path + ("<block>",)] = src.marks[path]
    return value


def load_yaml(text: str, file: str = "<input>") -> YamlSource:
    """Parse YAML text with the safe loader; syntax errors become located EinsimErrors."""
    src = YamlSource(data=None, file=file, text=text)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            src.data = None
            return src
        src.data = _build(node, (), src, loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        raise EinsimError(f"YAML syntax error: {exc.problem or exc.context}", loc) from None
    except yaml.YAMLError as exc:
        raise EinsimError(f"YAML error: {exc}", Location(file)) from None
    finally:
        loader.dispose()
    return src


def load_yaml_file(path: str | Path) -> YamlSource:
    """Read and parse a YAML file; a missing file is an EinsimError naming it."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EinsimError(f"no such file: {p}") from None
    except (IsADirectoryError, UnicodeDecodeError, PermissionError) as exc:
        raise EinsimError(f"cannot read {p}: {exc}") from None
    return load_yaml(text, str(p))
