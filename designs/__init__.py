"""Bundled data: architectures, workloads, model presets and sweeps (YAML, each number sourced).

``resolve`` is the one place a name given where a file is expected (``fusemax``, ``gemm``,
``llama2_7b``, ``fusemax_pe_buffer``) becomes a path; every loader and command goes through it.
"""

from importlib import resources
from pathlib import Path

from einsim.errors import EinsimError, did_you_mean

# bundled folder -> how an unknown name of that kind is reported
MISSING = {"workloads": "workload file or bundled workload", "models": "model preset",
           "arch": "arch file or bundled design", "sweeps": "sweep spec",
           "mappings": "constraint file or bundled configuration"}


def path(*parts: str) -> Path:
    """Path of a bundled design file, e.g. ``path("workloads", "attention_1pass.yaml")``."""
    return Path(str(resources.files(__name__).joinpath(*parts)))


def names(kind: str) -> list[str]:
    """The bundled names of one kind (``workloads``, ``models``, ``arch``, ``sweeps``, ``mappings``), sorted."""
    return sorted(p.stem for p in path(kind).glob("*.yaml"))


def resolve(name: str | Path, kind: str, root: Path | None = None) -> Path:
    """The file ``name`` names: a path (relative to ``root`` first, then the working directory),
    else, for a bare name without a suffix, the bundled ``designs/<kind>/<name>.yaml``.

    A bare name that is neither is an EinsimError listing the bundled names with a "did you
    mean"; any other missing path is an EinsimError naming it.
    """
    p = Path(name)
    for candidate in ([root / p] if root is not None and not p.is_absolute() else []) + [p]:
        if candidate.is_file():
            return candidate.resolve()
    if p.suffix or p.parent != Path(".") or not p.name:
        raise EinsimError(f"no such file: {p}")
    bundled = path(kind, f"{p.name}.yaml")
    if bundled.is_file():
        return bundled
    raise EinsimError(f"no {MISSING[kind]} {str(name)!r}" + did_you_mean(p.name, names(kind)))
