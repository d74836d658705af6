"""Finding Timeloop sets inside one folder, without ever reading above it.

A set is a folder holding an Accelergy ``*ERT_summary.yaml`` (the energies). Its other inputs are
looked up in that folder, then in its parents up to (and including) the folder given, following the
layouts of Timeloop's exercises and example designs:

- mapping: ``*.map.yaml`` beside the ERT, else the ``mapping:`` of ``parsed-processed-input.yaml``
  there, else ``map/*.map.yaml`` of a parent (the only one, or the one named after the set folder,
  e.g. ``...-os.map.yaml`` for ``ref-output/os``);
- problem: the ``problem:`` of ``parsed-processed-input.yaml`` beside the ERT, else ``prob/*.yaml``
  or ``*.prob.yaml`` of a parent;
- architecture: ``arch/*.yaml``, ``arch.yaml`` or ``*.arch.yaml`` of the set folder or a parent.

The walk is bounded (depth and entries), does not follow symbolic links, and refuses Sparseloop
inputs (``sparse-opt/`` folders, ``sparse_optimizations:``) with one line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from einsim.errors import EinsimError
from einsim.mappers.timeloop.files import read_timeloop, read_yaml

MAX_DEPTH = 6  # exercise/ref-output/<set> is 2 deep; example_designs/<design>/ref_outputs/<problem> is 3
MAX_ENTRIES = 5000
PARSED = "parsed-processed-input.yaml"


@dataclass(frozen=True)
class SetFiles:
    name: str
    folder: Path
    arch: Path
    problem: Path
    mapping: Path
    ert: Path
    stats: Path | None


def _walk(root: Path) -> list[Path]:
    """Folders under ``root`` (itself included), breadth first, bounded."""
    folders, queue, seen = [], [(root, 0)], 0
    while queue:
        folder, depth = queue.pop(0)
        folders.append(folder)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise EinsimError(f"--timeloop {root}: cannot list {folder} ({exc.strerror})") from None
        seen += len(entries)
        if seen > MAX_ENTRIES:
            raise EinsimError(f"--timeloop {root}: more than {MAX_ENTRIES} files and folders inside; "
                              "point it at one Timeloop exercise or design folder")
        if depth < MAX_DEPTH:
            queue += [(Path(e.path), depth + 1) for e in entries if e.is_dir(follow_symlinks=False)]
    return folders


def _files(folder: Path, pattern: str) -> list[Path]:
    if folder.is_symlink() or not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(pattern) if p.is_file() and not p.is_symlink())


def _one(paths: list[Path], what: str, folder: Path) -> Path | None:
    if len(paths) > 1:
        raise EinsimError(f"{folder}: {len(paths)} candidate {what} files ({', '.join(p.name for p in paths)}); keep one")
    return paths[0] if paths else None


def _has_key(path: Path, key: str) -> bool:
    data = read_yaml(path)
    return isinstance(data, dict) and key in data


def _refuse_sparse(chain: list[Path]) -> None:
    for folder in chain:
        for name in ("sparse-opt", "sparse_opt", "sparse-opts"):
            if (folder / name).exists() or (folder / name).is_symlink():
                raise EinsimError(f"{folder / name}: Sparseloop (sparse) optimizations are not modelled by einsim")
    for parsed in _files(chain[0], PARSED):
        read_timeloop(parsed)


def _resolve(folder: Path, root: Path) -> SetFiles | str:
    """The set in ``folder``, or why it is incomplete."""
    chain = [folder]
    while chain[-1] != root:
        chain.append(chain[-1].parent)
    _refuse_sparse(chain)
    ert = _one(_files(folder, "*ERT_summary.yaml"), "ERT summary", folder)
    parsed = next(iter(_files(folder, PARSED)), None)
    mapping = _one(_files(folder, "*.map.yaml"), "mapping", folder)
    if mapping is None and parsed and _has_key(parsed, "mapping"):
        mapping = parsed
    for up in chain[1:]:
        if mapping is not None:
            break
        candidates = _files(up / "map", "*.map.yaml")
        named = [m for m in candidates if re.search(rf"-{re.escape(folder.name)}(-|\.)", m.name)]
        mapping = candidates[0] if len(candidates) == 1 else _one(named, "mapping", up / "map")
    problem = parsed if parsed and _has_key(parsed, "problem") else None
    arch = None
    for up in chain:
        problem = problem or _one(_files(up / "prob", "*.yaml") or _files(up, "*.prob.yaml"), "problem", up)
        arch = arch or _one(_files(up / "arch", "*.yaml") or _files(up, "arch.yaml") or _files(up, "*.arch.yaml"),
                            "architecture", up)
    missing = [what for what, p in (("mapping", mapping), ("problem", problem), ("architecture", arch)) if p is None]
    if missing:
        return f"{folder}: no {' and no '.join(missing)} inside {root}"
    stats = next(iter(_files(folder, "*.stats.txt")), None)
    name = str(folder.relative_to(root)) if folder != root else folder.name
    return SetFiles(name, folder, arch, problem, mapping, ert, stats)


def find_sets(root: Path) -> tuple[list[SetFiles], list[str]]:
    """The complete sets inside ``root``, and a line for each incomplete one."""
    root = Path(root)
    if not root.is_dir():
        raise EinsimError(f"--timeloop {root}: no such folder")
    found, incomplete = [], []
    for folder in _walk(root):
        if _files(folder, "*ERT_summary.yaml"):
            got = _resolve(folder, root)
            (incomplete if isinstance(got, str) else found).append(got)
    return found, incomplete
