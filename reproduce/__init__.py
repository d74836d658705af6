"""The papers' published values next to the model's (DESIGN §1: nothing imports this package).

One module per paper holds that paper's published numbers with their sources and computes the
model's values through public names of ``explore``, ``mappers`` and ``sim``. A paper module exposes

- ``run(name) -> list[dict]``: the rows of ``einsim reproduce NAME --json``;
- ``compare() -> list[CompareRow]``: one row per published number (``einsim reproduce NAME --compare``);
- ``compare_table`` (re-exported from ``einsim.reproduce.compare``): the text view of those rows;
- optionally ``notes() -> list[str]``: text printed under the text view of ``run``.

The ``einsim`` CLI finds the paper modules through the entry-point group ``einsim.reproduce``
(pyproject.toml: paper name -> module), so ``explore`` never imports this package.
"""
