"""Safe YAML loading that remembers where every value came from, for located error messages."""

from __future__ import annotations

import re
import sys
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


# Limits on untrusted YAML. A file is read whole, so its size bounds the plain node count; aliases
# can multiply that without bound (the "billion laughs"), so the nodes they add are capped apart.
MAX_FILE_BYTES = 8 * 2**20
MAX_DEPTH = 100
MAX_ALIAS_NODES = 100_000


def _mark_location(file: str, mark: Any) -> Location:
    return Location(file, mark.line + 1, mark.column + 1) if mark is not None else Location(file)


class BoundedSafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses nesting deeper than MAX_DEPTH while composing (before any recursion
    limit is reached) and remembers where the first alias is, for the expansion check."""

    def __init__(self, stream: str, file: str = "<input>"):
        super().__init__(stream)
        self.file = file
        self._depth = 0
        self.first_alias: Location | None = None

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) and self.first_alias is None:
            self.first_alias = _mark_location(self.file, event.start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise EinsimError(f"YAML nested deeper than {MAX_DEPTH} levels", _mark_location(self.file, event.start_mark))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _node_location(file: str, node: yaml.Node) -> Location:
    return _mark_location(file, node.start_mark)


def check_nodes(root: yaml.Node, file: str, first_alias: Location | None) -> None:
    """Refuse alias cycles, alias expansion beyond MAX_ALIAS_NODES, non-scalar and duplicated keys.

    Aliases make the node tree a graph; its expanded size is counted once per distinct node
    (memoised), so the check costs the size of the file, not of the expansion.
    """
    expanded: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            visiting.discard(key)
            children = _children(node)
            expanded[key] = 1 + sum(expanded[id(c)] for c in children)
            continue
        if key in expanded:
            continue
        if key in visiting:
            raise EinsimError("a YAML alias refers to a node that contains it (a cycle)", first_alias or _node_location(file, node))
        visiting.add(key)
        if isinstance(node, yaml.MappingNode):
            _check_keys(node, file)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in visiting:
                raise EinsimError("a YAML alias refers to a node that contains it (a cycle)", first_alias or _node_location(file, child))
            if id(child) not in expanded:
                stack.append((child, False))
    added = expanded[id(root)] - len(expanded)
    if added > MAX_ALIAS_NODES:
        raise EinsimError(
            f"YAML aliases expand this document by {added} nodes, more than the limit of {MAX_ALIAS_NODES} "
            "(an alias bomb?); the first alias is here",
            first_alias or _node_location(file, root),
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_keys(node: yaml.MappingNode, file: str) -> None:
    seen: dict[tuple[str, str], yaml.Node] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise EinsimError("a mapping key must be a scalar (a name or a number)", _node_location(file, key_node))
        ident = (key_node.tag, key_node.value)
        if ident in seen:
            first = _node_location(file, seen[ident])
            raise EinsimError(
                f"duplicate key {key_node.value!r} (first given at line {first.line}, column {first.column}; "
                "keep one)",
                _node_location(file, key_node),
            )
        seen[ident] = key_node


def _construct(constructor: yaml.SafeLoader, node: yaml.Node, file: str) -> Any:
    try:
        return constructor.construct_object(node, deep=True)
    except EinsimError:
        raise
    except ValueError as exc:  # e.g. an integer beyond Python's 4300-digit conversion limit
        raise EinsimError(f"cannot read this value: {_value_problem(exc)}", _node_location(file, node)) from None


def _build(node: yaml.Node, path: PathKey, src: YamlSource, constructor: yaml.SafeLoader) -> Any:
    src.marks[path] = Location(src.file, node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(constructor, key_node, src.file)
            if key in out:  # keys equal after construction ('1' as int and 1.0 as float)
                raise EinsimError(f"duplicate key {key!r}", _node_location(src.file, key_node))
            src.key_marks[path + (key,)] = _node_location(src.file, key_node)
            out[key] = _build(value_node, path + (key,), src, constructor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), src, constructor) for i, item in enumerate(node.value)]
    value = _construct(constructor, node, src.file)
    if isinstance(node, yaml.ScalarNode) and node.style == "|":
        # remember that this is a literal block so line numbers inside it are exact
        src.marks[path + ("<block>",)] = src.marks[path]
    return value


def _compose(text: str, file: str, loader_class: type[BoundedSafeLoader]) -> tuple[BoundedSafeLoader, yaml.Node | None]:
    """Compose one document with every limit checked; the caller disposes of the loader."""
    if len(text) > MAX_FILE_BYTES:
        raise EinsimError(f"input is {len(text)} characters, more than the limit of {MAX_FILE_BYTES}", Location(file))
    _check_flow_depth(text, file)
    loader = loader_class(text, file)
    try:
        node = loader.get_single_node()
        if node is not None:
            check_nodes(node, file, loader.first_alias)
    except yaml.MarkedYAMLError as exc:
        loader.dispose()
        mark = exc.problem_mark or exc.context_mark
        raise EinsimError(f"YAML syntax error: {exc.problem or exc.context}", _mark_location(file, mark)) from None
    except yaml.YAMLError as exc:
        loader.dispose()
        raise EinsimError(f"YAML error: {_one_line(str(exc))}", Location(file)) from None
    except BaseException:
        loader.dispose()
        raise
    return loader, node


_BRACKET = re.compile(r"[\[\]{}]")


def _check_flow_depth(text: str, file: str) -> None:
    """Refuse more than MAX_DEPTH open brackets before PyYAML's scanner sees them: it keeps one
    pending key per open bracket and rescans them on every token, quadratic in the depth.

    Brackets are counted wherever they are (also inside strings), an over-estimate that only a
    text with more than MAX_DEPTH unmatched brackets can notice."""
    depth = 0
    for match in _BRACKET.finditer(text):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
                raise EinsimError(f"YAML nested deeper than {MAX_DEPTH} levels", Location(file, line, column))
        elif depth:
            depth -= 1


def _value_problem(exc: ValueError) -> str:
    text = _one_line(str(exc))
    if "integer string conversion" in text:
        return f"a number with more than {sys.get_int_max_str_digits()} digits"
    return text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def load_yaml(text: str, file: str = "<input>") -> YamlSource:
    """Parse YAML text with the bounded safe loader; every problem is a located EinsimError."""
    src = YamlSource(data=None, file=file, text=text)
    loader, node = _compose(text, file, BoundedSafeLoader)
    try:
        src.data = None if node is None else _build(node, (), src, loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise EinsimError(f"YAML error: {exc.problem or exc.context}", _mark_location(file, mark)) from None
    finally:
        loader.dispose()
    return src


def load_plain(text: str, file: str = "<input>", loader_class: type[BoundedSafeLoader] = BoundedSafeLoader) -> Any:
    """Plain Python data from YAML text, with the same limits and errors as ``load_yaml``.

    ``loader_class`` may be a subclass of BoundedSafeLoader with extra constructors (tags).
    """
    loader, node = _compose(text, file, loader_class)
    try:
        return None if node is None else loader.construct_document(node)
    except EinsimError:
        raise
    except ValueError as exc:  # e.g. an integer beyond Python's 4300-digit conversion limit
        raise EinsimError(f"cannot read a value: {_value_problem(exc)}", Location(file)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise EinsimError(f"YAML error: {exc.problem or exc.context}", _mark_location(file, mark)) from None
    finally:
        loader.dispose()


def read_text_file(path: str | Path) -> str:
    """The UTF-8 text of an input file; missing, too large or non-UTF-8 files are EinsimErrors."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise EinsimError(f"{p} is {size} bytes, more than the limit of {MAX_FILE_BYTES} for an input file")
        raw = p.read_bytes()
    except FileNotFoundError:
        raise EinsimError(f"no such file: {p}") from None
    except IsADirectoryError:
        raise EinsimError(f"{p} is a folder, not a file") from None
    except OSError as exc:
        raise EinsimError(f"cannot read {p}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise EinsimError(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at byte offset {exc.start} (save the file as UTF-8)",
            Location(str(p), line, column),
        ) from None


def load_yaml_file(path: str | Path) -> YamlSource:
    """Read and parse a YAML file (see ``read_text_file`` and ``load_yaml``)."""
    return load_yaml(read_text_file(path), str(Path(path)))
