"""einsim: an extended-Einsum accelerator simulator and design-space explorer.

The code lives in sibling folders mapped into this namespace by pyproject.toml:
``einsim.einsum`` (cascade language), ``einsim.arch`` (architecture specs),
``einsim.mappers``, ``einsim.sim`` and ``einsim.explore`` (public API and CLI).
"""

__version__ = "0.1.0"
