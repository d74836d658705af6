"""Render the README figure, FuseMax's speedup over FLAT by sequence length, as a static PNG.

The figure is ``fig_vs_flat`` of ``notebooks/fusemax.ipynb``: this script runs the notebook's code
cells with the parameter cell replaced by the paper's full grid (4 models x 1K...1M tokens, about
10 s), writes the figure as self-contained HTML and screenshots it with headless Chromium (plotly's
own PNG export needs kaleido, which einsim does not depend on).

Regenerate from the repository root (needs ``chromium`` on PATH, e.g. ``apt-get install chromium``)::

    python docs/figures/make_readme_figure.py            # writes docs/figures/fusemax_speedup.png
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import nbformat

from einsim.reproduce import fusemax as reproduce

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "fusemax.ipynb"
OUT = Path(__file__).resolve().parent / "fusemax_speedup.png"
WIDTH, HEIGHT = 900, 500


def notebook_figure(name: str) -> Any:
    """Run the notebook's code cells at full size and return its variable ``name``."""
    scope: dict[str, Any] = {"__name__": "__notebook__"}
    cells = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    assert cells[0].source.startswith("# parameters"), "the notebook's first code cell must be its parameters"
    scope.update(MODELS=list(reproduce.MODELS), SEQ_LENS=list(reproduce.SEQ_LENS))
    for cell in cells[1:]:
        exec(compile(cell.source, f"{NOTEBOOK.name}", "exec"), scope)  # the notebook is our own code
    return scope[name]


def screenshot(fig: Any, out: Path, chromium: str) -> None:
    fig.update_layout(width=WIDTH, height=HEIGHT, margin={"l": 60, "r": 20, "t": 50, "b": 50})
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "figure.html"
        fig.write_html(html, include_plotlyjs=True, full_html=True, config={"displayModeBar": False, "staticPlot": True})
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                        f"--user-data-dir={Path(tmp) / 'profile'}", f"--window-size={WIDTH},{HEIGHT}",
                        "--virtual-time-budget=5000", f"--screenshot={out}", html.as_uri()],
                       check=True, capture_output=True, timeout=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
    args = ap.parse_args()
    screenshot(notebook_figure("fig_vs_flat"), args.out, args.chromium)
    print(f"{args.out}: {args.out.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
