"""Every bundled design loads with sources and `einsim arch show` prints it (text and JSON)."""

import json

import pytest

from einsim.arch import check_sources, load_arch
from einsim.arch.load import bundled_dir
from einsim.explore.cli import main

DESIGNS = sorted(p.name for p in bundled_dir().glob("*.yaml"))
EXPECTED = {
    "fusemax.yaml", "flat.yaml", "unfused.yaml", "edge.yaml", "u280.yaml", "vhk158.yaml",
    "oneplus12.yaml", "oneplus_ace2.yaml", "m1max.yaml", "xiaomi11.yaml", "a100.yaml", "v100s.yaml",
}


def test_all_expected_designs_are_bundled():
    assert EXPECTED <= set(DESIGNS)


@pytest.mark.parametrize("name", DESIGNS)
def test_bundled_design_loads_with_sources(name):
    arch = load_arch(str(bundled_dir() / name))
    check_sources(arch)
    for comp in arch.components.values():
        assert comp.source and comp.source.strip(), comp.name


@pytest.mark.parametrize("name", DESIGNS)
def test_arch_show_json(name, capsys):
    assert main(["arch", "show", str(bundled_dir() / name), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["source"]
    for cname, comp in data["components"].items():
        assert comp["source"], cname
        assert all(v for v in comp["sources"].values()), cname
    assert data["area"]["total_m2"] >= 0
    assert set(data["peak_per_s"]) <= set(data["components"])


@pytest.mark.parametrize("name", DESIGNS)
def test_arch_show_text(name, capsys):
    assert main(["arch", "show", str(bundled_dir() / name)]) == 0
    out = capsys.readouterr().out
    assert "source:" in out and "total on-chip area" in out


def test_fusemax_json_acceptance(capsys):
    main(["arch", "show", str(bundled_dir() / "fusemax.yaml"), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["clock_Hz"] == 9.4e8
    assert data["components"]["Array2D"]["derived"]["pe_count"] == 65536
    assert data["components"]["Array2D"]["spec"]["shape"] == [256, 256]
    assert data["components"]["GlobalBuffer"]["derived"]["capacity_B"] == 16777216
    assert data["components"]["GlobalBuffer"]["spec"]["capacity_B"] == 16777216
    assert data["components"]["Array1D"]["derived"]["pe_count"] == 256
    assert data["components"]["DRAM"]["spec"]["bandwidth_Bps"] == 400 * 2**30
    assert data["components"]["Array2D"]["derived"]["ops"]["exp"]["cycles"] == 7
    assert data["peak_per_s"]["Array2D"]["mac"] == pytest.approx(65536 * 9.4e8)
    assert data["sources"]["clock_Hz"].startswith("paper")


def test_fusemax_text_shows_units(capsys):
    main(["arch", "show", str(bundled_dir() / "fusemax.yaml")])
    out = capsys.readouterr().out
    for text in ("clock_Hz: 940 MHz", "capacity_B: 16 MiB", "bandwidth_Bps: 400 GiB/s",
                 "pe_count: 65536", "op exp = 6 mac + 1 add: 7 cycles"):
        assert text in out


def test_arch_show_with_overrides(capsys):
    main(["arch", "show", str(bundled_dir() / "fusemax.yaml"), "--json",
          "--set", "Array2D.shape=[128,128]", "--set", "GlobalBuffer.capacity_B=8MiB"])
    data = json.loads(capsys.readouterr().out)
    assert data["components"]["Array2D"]["derived"]["pe_count"] == 16384
    assert data["components"]["GlobalBuffer"]["derived"]["capacity_B"] == 8 * 2**20


def test_arch_show_bad_override_exits_2(capsys):
    assert main(["arch", "show", str(bundled_dir() / "fusemax.yaml"), "--set", "Array9D.shape=[1]"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("einsim: error: --set: unknown override path 'Array9D.shape'")
    assert "Array2D.shape" in err and len(err.strip().splitlines()) == 1


def test_arch_show_bad_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "a.yaml"
    bad.write_text("name: x\ncomponents:\n  D: {kind: dram, bandwidth_Bps: 5 GHz}\n")
    assert main(["arch", "show", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3:" in err and "components.D.bandwidth_Bps" in err and "a frequency but a bandwidth" in err


def test_docs_example_loads():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "arch.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    arch = load_arch(example, require_sources=True)
    assert arch.op_cost("Array", "exp").cycles == 7
    assert arch.instances("RF") == 256
