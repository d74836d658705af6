"""Broken Timeloop inputs through `einsim eval --timeloop`: each ends in exit 2 and one line naming the
file (or flag) and what is wrong; never a traceback, never a result."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest

from einsim.explore.cli import main

EXERCISES = (Path(__file__).resolve().parents[1] / "golden" / "timeloop"
             / "tutorial_exercises/01_accelergy_timeloop_2020_ispass/timeloop")
ARCH, PROB, MAP = "arch/2level.arch.yaml", "prob/conv1d.prob.yaml", "map/conv1d-2level-os.map.yaml"
ERT = "ref-output/os/timeloop-model.ERT_summary.yaml"


def one_set(tmp_path: Path, exercise: str, keep: str, drop: str, drop_map: str) -> Path:
    """A copy of an exercise with only its ``keep`` set: the ``drop`` set and its mapping removed."""
    root = tmp_path / exercise
    shutil.copytree(EXERCISES / exercise, root)
    shutil.rmtree(root / "ref-output" / drop)
    (root / "map" / drop_map).unlink()
    assert (root / "ref-output" / keep).is_dir()
    return root


def conv1d_os(tmp_path: Path) -> Path:
    """The 01-model-conv1d-2level exercise with only its output-stationary set."""
    return one_set(tmp_path, "01-model-conv1d-2level", "os", "ws", "conv1d-2level-ws.map.yaml")


def spatial_cp(tmp_path: Path) -> Path:
    """04-model-conv1d+oc-3levelspatial with only its C-parallel set (PE: meshX 16)."""
    return one_set(tmp_path, "04-model-conv1d+oc-3levelspatial", "cp", "kp", "conv1d+oc+ic-3levelspatial-kp-ws.map.yaml")


def refused(capsys, argv: list[str]) -> str:
    """Run the CLI; assert exit 2, nothing on stdout, one line on stderr with no result in it."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("einsim: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "latency" not in err and "energy 3" not in err
    return err


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def _set(file: str, old: str, new: str) -> Callable[[Path], str]:
    def apply(root: Path) -> str:
        edit(root / file, old, new)
        return Path(file).name
    return apply


def _write(file: str, data: bytes) -> Callable[[Path], str]:
    def apply(root: Path) -> str:
        (root / file).write_bytes(data)
        return Path(file).name
    return apply


def _extra_dimension(root: Path) -> str:
    edit(root / PROB, "dimensions: [ R, P ]", "dimensions: [ R, P, X ]")
    edit(root / PROB, "P: 16", "P: 16\n    X: 2")
    return Path(PROB).name


BOMB = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n".encode()
    for i in range(8)) + b"architecture: {nodes: *i}\n"

# (what is broken, how, a fragment the message must contain)
CASES: list[tuple[str, Callable[[Path], str], str]] = [
    # problem
    ("no dimensions", _set(PROB, "dimensions: [ R, P ]", "dims: [ R, P ]"), "dimensions"),
    ("unknown dimension in a projection", _set(PROB, "- [ [R], [P] ]", "- [ [R], [Q] ]"), "unknown dimension 'Q'"),
    ("no output data space", _set(PROB, "read_write: True", "read_write: False"), "read_write"),
    ("size missing", _set(PROB, "P: 16", "Q: 16"), "no size for dimension P"),
    ("negative size", _set(PROB, "P: 16", "P: -16"), "problem.instance.P"),
    ("size as text", _set(PROB, "P: 16", "P: sixteen"), "problem.instance.P"),
    ("fractional size", _set(PROB, "P: 16", "P: 16.5"), "problem.instance.P"),
    ("sparse densities", _set(PROB, "P: 16", "P: 16\n    densities: {Inputs: 0.5}"), "Sparseloop"),
    ("sparse optimizations in the problem file", _set(PROB, "problem:", "sparse_optimizations: {targets: [{name: Buffer}]}\nproblem:"), "Sparseloop"),
    ("malformed projection term", _set(PROB, "- [ [P] ]", "- [ [P, 1, 2] ]"), "projection term"),
    ("no data spaces", _set(PROB, "data_spaces:", "spaces:"), "data_spaces"),
    ("dimension indexing nothing", _extra_dimension, "indexes no data space"),
    ("duplicate data space", _set(PROB, "name: Outputs", "name: Inputs"), "used twice"),
    # mapping
    ("factors multiply to 4", _set(MAP, "P=16", "P=4"), "multiply to 4, but its size is 16"),
    ("factors multiply to 64", _set(MAP, "P=16", "P=64"), "multiply to 64, but its size is 16"),
    ("factor syntax", _set(MAP, "factors: R=1 P=16", "factors: hello world"), "is not DIM=N"),
    ("factor of an unknown dimension", _set(MAP, "factors: R=1 P=16", "factors: R=1 P=16 Z=2"), "unknown dimension 'Z'"),
    ("factor zero", _set(MAP, "factors: R=1 P=16", "factors: R=0 P=16"), "positive whole number"),
    ("unknown target", _set(MAP, "target: MainMemory", "target: MainMemroy"), "did you mean MainMemory"),
    ("unknown entry type", _set(MAP, "type: temporal", "type: temproal"), "unknown type"),
    ("permutation with an unknown dimension", _set(MAP, "permutation: PR", "permutation: PX"), "permutation names unknown"),
    ("permutation repeating a dimension", _set(MAP, "permutation: PR", "permutation: PP"), "repeats"),
    ("a level given twice", _set(MAP, "target: Buffer", "target: MainMemory"), "a second temporal entry"),
    ("keeping an unknown data space", _set(MAP, "permutation: RP", "permutation: RP\n  - target: Buffer\n    type: dataspace\n    keep: [Psums]"), "unknown data space 'Psums'"),
    ("kept and bypassed", _set(MAP, "permutation: RP", "permutation: RP\n  - target: Buffer\n    type: dataspace\n    keep: [Inputs]\n    bypass: [Inputs]"), "both kept and bypassed"),
    ("no mapping list", _set(MAP, "mapping:", "mappings:"), "mapping"),
    ("unknown key in an entry", _set(MAP, "type: temporal", "type: temporal\n    factor: R=3"), "unknown key 'factor'"),
    ("spatial entry without fan-out", _set(MAP, "type: temporal\n    factors: R=3", "type: spatial\n    factors: R=3"), "no fan-out"),
    # architecture
    ("depth 0", _set(ARCH, "depth: 64", "depth: 0"), "depth must be a positive whole number"),
    ("depth -64", _set(ARCH, "depth: 64", "depth: -64"), "depth must be a positive whole number"),
    ("depth 1: the tiles do not fit", _set(ARCH, "depth: 64", "depth: 1"), "does not fit"),
    ("unknown tag", _set(ARCH, "!Component\n    name: Buffer", "!Compnent\n    name: Buffer"), "unknown architecture node tag"),
    ("no compute component", _set(ARCH, "class: intmac", "class: regfile"), "compute component"),
    ("mesh of zero", _set(ARCH, "name: System", "name: System\n    spatial: {meshX: 0}"), "meshX"),
    ("sparse metadata", _set(ARCH, "depth: 64", "depth: 64\n      metadata_storage_depth: 8"), "Sparseloop"),
    ("zero bandwidth", _set(ARCH, "depth: 64", "depth: 64\n      read_bandwidth: 0"), "read_bandwidth must be a positive"),
    ("width not a multiple of datawidth", _set(ARCH, "width: 64", "width: 60"), "whole number of datawidth"),
    ("no architecture.nodes", _set(ARCH, "nodes:", "node:"), "nodes"),
    # files
    ("non-UTF-8 mapping", _write(MAP, b"mapping:\n  - target: \xff\xfe\n"), "not UTF-8"),
    ("non-UTF-8 architecture", _write(ARCH, b"\x89PNG\r\n\x1a\n"), "not UTF-8"),
    ("YAML syntax error", _write(PROB, b"problem: [unclosed\n"), "YAML syntax error"),
    ("alias bomb", _write(ARCH, BOMB), "alias"),
    ("deep nesting", _write(ARCH, b"architecture: " + b"[" * 5000 + b"]" * 5000 + b"\n"), "nested"),
    ("empty problem file", _write(PROB, b""), "problem"),
    ("negative ERT energy", _set(ERT, "energy: 0.42564", "energy: -0.42564"), "finite non-negative"),
    ("ERT without the buffer", _set(ERT, "Buffer[1..1]", "Bufer[1..1]"), "no energies for component Buffer"),
]


@pytest.mark.parametrize("name, breaks, says", CASES, ids=[c[0] for c in CASES])
def test_broken_timeloop_input_is_one_line(capsys, tmp_path, name, breaks, says) -> None:
    root = conv1d_os(tmp_path)
    file = breaks(root)
    err = refused(capsys, ["eval", "--timeloop", str(root)])
    assert file in err and says in err, err


def test_the_unbroken_copy_evaluates(capsys, tmp_path) -> None:
    """The fixture itself is good: the refusals above come from the edits."""
    assert main(["eval", "--timeloop", str(conv1d_os(tmp_path)), "--json"]) == 0
    assert '"cycles": 48' in capsys.readouterr().out


def test_spatial_factors_beyond_the_fan_out(capsys, tmp_path) -> None:
    root = spatial_cp(tmp_path)
    mapping = root / "map" / "conv1d+oc+ic-3levelspatial-cp-ws.map.yaml"
    edit(mapping, "R=1 P=1 K=1 C=16", "R=1 P=1 K=1 C=32")
    edit(mapping, "R=3 P=1 K=32 C=2", "R=3 P=1 K=32 C=1")
    err = refused(capsys, ["eval", "--timeloop", str(root)])
    assert mapping.name in err and "use 32 instances, but PE has 16" in err


def test_missing_mapping_file(capsys, tmp_path) -> None:
    root = conv1d_os(tmp_path)
    (root / MAP).unlink()
    err = refused(capsys, ["eval", "--timeloop", str(root)])
    assert "no mapping" in err and str(root / "ref-output" / "os") in err


def test_sparse_optimisation_folder(capsys, tmp_path) -> None:
    root = conv1d_os(tmp_path)
    (root / "sparse-opt").mkdir()
    (root / "sparse-opt" / "opt.yaml").write_text("sparse_optimizations: {targets: []}\n")
    err = refused(capsys, ["eval", "--timeloop", str(root)])
    assert "sparse-opt" in err and "Sparseloop" in err


def test_files_above_the_folder_are_not_read(capsys, tmp_path) -> None:
    """ref-output/os alone has no architecture, problem or mapping; the exercise's arch/ above it is not used."""
    root = conv1d_os(tmp_path)
    err = refused(capsys, ["eval", "--timeloop", str(root / "ref-output" / "os")])
    assert "no mapping and no problem and no architecture inside" in err


def test_a_huge_folder_is_refused_quickly(capsys, tmp_path) -> None:
    for i in range(60):
        (tmp_path / f"d{i}").mkdir()
        for j in range(90):
            (tmp_path / f"d{i}" / f"f{j}").touch()
    err = refused(capsys, ["eval", "--timeloop", str(tmp_path)])
    assert "more than 5000 files and folders" in err


@pytest.mark.parametrize("flag", [["--mapping", "m.yaml"], ["--arch", "edge"], ["--workload", "gemm"], ["--set", "P=4"]])
def test_flags_that_timeloop_would_ignore_are_refused(capsys, tmp_path, flag) -> None:
    err = refused(capsys, ["eval", "--timeloop", str(conv1d_os(tmp_path)), *flag])
    assert f"{flag[0]} cannot be combined with --timeloop" in err


def test_unknown_set_name_and_missing_folder(capsys, tmp_path) -> None:
    err = refused(capsys, ["eval", "--timeloop", str(conv1d_os(tmp_path)), "--timeloop-set", "ref-output/ws"])
    assert "--timeloop-set ref-output/ws" in err and "ref-output/os" in err
    err = refused(capsys, ["eval", "--timeloop", str(tmp_path / "nowhere")])
    assert "no such folder" in err
