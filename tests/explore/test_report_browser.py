"""The HTML report in a real headless Chromium: no console errors, every chart rendered.

Needs a Chromium binary (Debian: ``apt-get install chromium``; or set EINSIM_CHROMIUM). Without one
the browser test is skipped with that reason; the page is still checked for self-containment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from einsim.explore import load_sweep, sweep
from einsim.explore.report import write_report

CHARTS = ("pareto", "breakdown", "utilization", "parallel")
# records uncaught errors and console.error calls into the DOM, which --dump-dom then prints
PROBE = """<script>
window.__errors = [];
window.addEventListener('error', e => window.__errors.push('uncaught: ' + e.message));
window.addEventListener('unhandledrejection', e => window.__errors.push('rejection: ' + e.reason));
const __ce = console.error; console.error = (...a) => { window.__errors.push('console.error: ' + a.join(' ')); __ce(...a); };
window.addEventListener('load', () => setTimeout(() => {
  const p = document.createElement('pre'); p.id = 'probe-errors'; p.textContent = JSON.stringify(window.__errors);
  document.body.appendChild(p);
}, 1500));
</script>"""


def chromium() -> str | None:
    for name in (os.environ.get("EINSIM_CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    spec = tmp / "s.yaml"
    spec.write_text("""\
name: rep
base: {arch: fusemax, workload: attention_1pass, set: {rank.H: 12}}
axes:
  side: {path: arch.Array2D.shape.0, values: [16, 64, 256]}
  buffer_MiB: {values: [2, 16]}
  tokens: {path: rank.M, values: [1000, 4096, 16384]}
derived:
  cols: {path: arch.Array2D.shape.1, expr: side}
  queries: {path: rank.P, expr: tokens}
  buffer_B: {path: arch.GlobalBuffer.capacity_B, expr: buffer_MiB * 1048576}
report: {pareto: [latency_s, energy_J, area_m2]}
""")
    sweep(load_sweep(spec), tmp / "run")
    return write_report(tmp / "run", tmp / "report.html")


def test_report_is_self_contained(report) -> None:
    page = report.read_text()
    assert not re.search(r"<script[^>]+src=", page), "the page loads a script from elsewhere"
    assert "<link" not in page
    for chart in CHARTS:
        assert f'id="chart-{chart}"' in page
    assert "Failed points" in page and "rank M1 must have a positive whole size" in page
    assert "side = 256" in page  # hover text carries the axes


def test_report_renders_in_headless_chromium(report) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("no Chromium found (apt-get install chromium, or set EINSIM_CHROMIUM); "
                    "the page's self-containment is still tested")
    probed = report.with_name("probed.html")
    probed.write_text(report.read_text().replace("<head>", "<head>" + PROBE, 1))
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--enable-unsafe-swiftshader", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=15000",
             "--window-size=1280,2400", "--dump-dom", probed.as_uri()],
            capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    uncaught = [line for line in proc.stderr.splitlines() if "CONSOLE" in line and "Uncaught" in line]
    assert not uncaught, uncaught
    errors = re.search(r'<pre id="probe-errors">(.*?)</pre>', dom, re.S)
    assert errors, "the page did not finish loading"
    assert errors.group(1) == "[]", errors.group(1)
    for chart in CHARTS:
        start = dom.index(f'id="chart-{chart}"')
        end = min([dom.index(f'id="chart-{c}"') for c in CHARTS if dom.index(f'id="chart-{c}"') > start] + [len(dom)])
        block = dom[start:end]
        assert 'class="main-svg"' in block, f"chart {chart} did not render"
    assert dom.count('class="point"') >= 10  # the scatter drew its markers
