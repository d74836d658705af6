"""YAML -> Architecture, with errors that name the file, line, field path and valid names."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml
from pydantic import ValidationError

from einsim.arch.architecture import Architecture
from einsim.arch.fields import model_at, yaml_keys, yaml_path
from einsim.arch.overrides import apply_overrides
from einsim.arch.kinds import COMPONENT_KINDS
from einsim.arch.spec import ReferenceProblem
from einsim.designs import resolve
from einsim.errors import EinsimError, Location, did_you_mean
from einsim.yamlsrc import YamlSource, load_yaml, load_yaml_file

Overrides = Iterable[str] | Mapping[str, Any] | None


def bundled_dir() -> Path:
    """Folder of the bundled architecture files (designs/arch).

    ``einsim.arch`` and ``einsim.designs`` are sibling folders both in the source tree and in an
    installed package, so the path is found without importing the data package.
    """
    return Path(__file__).resolve().parents[1] / "designs" / "arch"


def load_arch(
    path_or_text: str | Path,
    overrides: Overrides = None,
    require_sources: bool | None = None,
) -> Architecture:
    """Load an architecture from a YAML file path or YAML text, applying ``--set`` overrides.

    ``require_sources`` (default: only for files under designs/arch) makes a component without
    a ``source`` an error.
    """
    src = _read(path_or_text)
    arch = arch_from_source(src, overrides)
    if require_sources is None:
        require_sources = _is_bundled(src.file)
    if require_sources:
        check_sources(arch)
    return arch


def _read(path_or_text: str | Path) -> YamlSource:
    """A file path or bundled design name (``fusemax``), else YAML text (which has a ``:``)."""
    if isinstance(path_or_text, Path) or "\n" not in path_or_text and (
        path_or_text.endswith((".yaml", ".yml")) or ":" not in path_or_text or Path(path_or_text).is_file()
    ):
        return load_yaml_file(resolve(path_or_text, "arch"))
    return load_yaml(path_or_text, "<text>")


def _is_bundled(file: str) -> bool:
    try:
        return Path(file).resolve().parent == bundled_dir().resolve()
    except OSError:
        return False


def arch_from_source(src: YamlSource, overrides: Overrides = None) -> Architecture:
    """Validate loaded YAML into an Architecture; the first problem becomes a located error."""
    if not isinstance(src.data, dict):
        raise EinsimError(
            "an architecture file must be a mapping with name and components", src.where()
        )
    data, origins = apply_overrides(src.data, overrides) if overrides else (src.data, {})
    try:
        arch = Architecture.model_validate(data)
    except ValidationError as exc:
        raise _located(exc, src, data, origins) from None
    arch._src = src
    return arch


def check_sources(arch: Architecture) -> None:
    """Every number must be traceable: the architecture and each component need a source."""
    if not (arch.source or "").strip():
        raise EinsimError("the architecture has no 'source:' (required for bundled designs)", arch.where())
    for name, comp in arch.components.items():
        if not (comp.source or "").strip():
            raise EinsimError(
                f"component {name!r} has no 'source:' (every bundled number needs one: paper, "
                "datasheet, measurement or 'estimate: why')",
                arch.where("components", name),
            )


def _located(exc: ValidationError, src: YamlSource, data: Any, origins: dict) -> EinsimError:
    err = exc.errors()[0]
    loc = _strip_kind_tags(tuple(err["loc"]), data)
    problem = (err.get("ctx") or {}).get("error")
    if isinstance(problem, ReferenceProblem):
        loc = problem.path if problem.path[:1] == ("components",) else loc + problem.path
        message = str(problem)
    else:
        message = _message(err, loc, data)
    path = yaml_path(data, loc)
    where = _where(src, path, origins)
    field = ".".join(str(p) for p in path) or "<top>"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more problem{'s' * (more > 1)})" if more else ""
    return EinsimError(f"{field}: {message}{suffix}", where)


def _where(src: YamlSource, path: tuple, origins: dict) -> Location:
    for set_path, text in origins.items():
        if path[: len(set_path)] == set_path:
            return Location(f"--set {text}")
    return src.where(*path)


def _strip_kind_tags(loc: tuple, data: Any) -> tuple:
    """Drop the discriminator tag pydantic inserts after a component's name."""
    if len(loc) >= 3 and loc[0] == "components" and loc[2] in COMPONENT_KINDS:
        return loc[:2] + loc[3:]
    return loc


def _message(err: dict, loc: tuple, data: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        model = model_at(Architecture, data, loc[:-1])
        valid = yaml_keys(model) if model else []
        return f"unknown key {loc[-1]!r}" + did_you_mean(str(loc[-1]), valid)
    if kind == "union_tag_invalid":
        return f"unknown component kind {err['ctx']['tag']!r}" + did_you_mean(
            str(err["ctx"]["tag"]), COMPONENT_KINDS
        )
    if kind == "union_tag_not_found":
        return "a component needs a 'kind'" + did_you_mean("", COMPONENT_KINDS)
    if kind == "missing":
        return f"missing required field {loc[-1]!r}"
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    if kind.startswith(("greater_than", "less_than")):
        given = err["input"]
        msg += f", got {getattr(given, 'value', given)!r}"  # a scaled key's (*_pJ) value as written
    return msg


def dump_arch(arch: Architecture) -> str:
    """The architecture as YAML with SI keys and values; loading it gives the same spec.

    Non-ASCII text is escaped so that characters YAML reads as line breaks (e.g. U+0085) survive."""
    data = arch.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=False)
