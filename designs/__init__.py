"""Bundled data: architectures, workloads, model presets and sweeps (YAML, each number sourced)."""

from importlib import resources
from pathlib import Path


def path(*parts: str) -> Path:
    """Path of a bundled design file, e.g. ``path("workloads", "attention_1pass.yaml")``."""
    return Path(str(resources.files(__name__).joinpath(*parts)))
