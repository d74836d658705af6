"""Bad architecture quantities and op tables through the CLI (`einsim arch show`, `einsim eval`):
exit 2, one stderr line starting with file:line:column (or the --set flag), nothing on stdout.

The old code accepted 1e400 B / Hz / B/s as infinity (and --json then wrote Infinity), a 0 B
capacity, infinite op cycles, and crashed on integers beyond the float range."""

from __future__ import annotations

import pytest

from conftest import run_cli_error
from einsim import designs

BASE = designs.path("arch", "fusemax.yaml").read_text(encoding="utf-8")
GEMM = designs.path("workloads", "gemm.yaml")
BOMB = 'l0: &l0 ["a", "a", "a", "a", "a", "a", "a", "a", "a"]\n' + "".join(
    f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]\n" for i in range(1, 10))


def edit(old: str, new: str) -> tuple[str, int]:
    """BASE with the first ``old`` replaced; the line of the change (1-based)."""
    at = BASE.index(old)
    return BASE[:at] + new + BASE[at + len(old):], BASE.count("\n", 0, at) + 1


# (id, old text, new text, expected fragment of the message)
FILE_CASES = [
    ("capacity 1e400 B", "capacity_B: 16 MiB", "capacity_B: 1e400 B", "not a finite quantity"),
    ("capacity 1e400 plain", "capacity_B: 16 MiB", "capacity_B: 1e400", "not a finite quantity"),
    ("capacity huge integer", "capacity_B: 16 MiB", "capacity_B: " + "9" * 400, "400-digit number"),
    ("capacity 5000 digits", "capacity_B: 16 MiB", "capacity_B: " + "9" * 5000, "more than 4300 digits"),
    ("capacity zero", "capacity_B: 16 MiB", "capacity_B: 0 B", "greater than 0"),
    ("capacity negative", "capacity_B: 16 MiB", "capacity_B: -16 MiB", "greater than 0"),
    ("capacity inf", "capacity_B: 16 MiB", "capacity_B: .inf", "not a finite quantity"),
    ("capacity nan", "capacity_B: 16 MiB", "capacity_B: .nan", "not a finite quantity"),
    ("capacity ambiguous unit", "capacity_B: 16 MiB", "capacity_B: 16 KB", "ambiguous"),
    ("capacity wrong dimension", "capacity_B: 16 MiB", "capacity_B: 16 MHz", "bytes"),
    ("capacity text", "capacity_B: 16 MiB", "capacity_B: lots", "cannot read"),
    ("bandwidth 1e400", "bandwidth_Bps: 400 GiB/s", "bandwidth_Bps: 1e400 B/s", "not a finite quantity"),
    ("bandwidth zero", "bandwidth_Bps: 400 GiB/s", "bandwidth_Bps: 0 B/s", "greater than 0"),
    ("bandwidth negative", "bandwidth_Bps: 400 GiB/s", "bandwidth_Bps: -400 GiB/s", "greater than 0"),
    ("bandwidth inf", "bandwidth_Bps: 400 GiB/s", "bandwidth_Bps: .inf", "not a finite quantity"),
    ("clock 1e400", "clock_Hz: 940 MHz", "clock_Hz: 1e400 Hz", "not a finite quantity"),
    ("clock zero", "clock_Hz: 940 MHz", "clock_Hz: 0 Hz", "greater than 0"),
    ("clock nan", "clock_Hz: 940 MHz", "clock_Hz: .nan", "not a finite quantity"),
    ("clock as bytes", "clock_Hz: 940 MHz", "clock_Hz: 940 MB", "frequency"),
    ("energy negative", "access_energy_pJ: 249.6", "access_energy_pJ: -249.6", "greater than or equal to 0, got -249.6"),
    ("energy inf", "access_energy_pJ: 249.6", "access_energy_pJ: .inf", "not a finite quantity"),
    ("energy 1e400", "access_energy_pJ: 249.6", "access_energy_pJ: 1e400", "not a finite quantity"),
    ("op cycles zero", "mac: {cycles: 1,", "mac: {cycles: 0,", "greater than 0"),
    ("op cycles negative", "mac: {cycles: 1,", "mac: {cycles: -1,", "greater than 0"),
    ("op cycles inf", "mac: {cycles: 1,", "mac: {cycles: .inf,", "finite number"),
    ("op cycles nan", "mac: {cycles: 1,", "mac: {cycles: .nan,", "finite number"),
    ("op cycles text", "mac: {cycles: 1,", "mac: {cycles: fast,", "valid number"),
    ("op energy negative", "mac: {cycles: 1, energy_pJ: 17.1645", "mac: {cycles: 1, energy_pJ: -17", "greater than or equal to 0"),
    ("op energy 1e400", "mac: {cycles: 1, energy_pJ: 17.1645", "mac: {cycles: 1, energy_pJ: 1e400", "not a finite quantity"),
    ("shape with zero", "shape: [256, 256]", "shape: [256, 0]", ">= 1"),
    ("entries zero", "entries: 16", "entries: 0", "greater than 0"),
    ("width negative", "width_bits: 4096", "width_bits: -1", "greater than 0"),
    ("duplicated capacity", "capacity_B: 16 MiB", "capacity_B: 16 MiB\n    capacity_B: 8 MiB", "duplicate key 'capacity_B'"),
    ("non-scalar key", "capacity_B: 16 MiB", "{capacity_B: 1}: 16 MiB", "key must be a scalar"),
    ("deep flow nesting", "capacity_B: 16 MiB", "capacity_B: " + "[" * 150 + "]" * 150, "nested deeper than 100"),
    ("recursive alias", "capacity_B: 16 MiB", "capacity_B: &c [*c]", "cycle"),
]

SET_CASES = [
    ("GlobalBuffer.capacity_B=1e400B", "not a finite quantity"),
    ("GlobalBuffer.capacity_B=0", "greater than 0"),
    ("DRAM.bandwidth_Bps=1e400B/s", "not a finite quantity"),
    ("clock_Hz=1e400Hz", "not a finite quantity"),
    ("clock_Hz=.nan", "not a finite quantity"),
    ("Array2D.ops.mac.cycles=0", "greater than 0"),
    ("Array2D.ops.mac.cycles=1e400", "finite number"),
    ("Array2D.ops.mac.energy_pJ=-1", "greater than or equal to 0, got -1"),
    ("Array2D.ops.mac.energy_pJ=.inf", "not a finite quantity"),
]


@pytest.mark.parametrize("old, new, fragment", [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_bad_architecture_file_is_one_located_line(old: str, new: str, fragment: str, tmp_path, capsys) -> None:
    text, line = edit(old, new)
    line += new.count("\n")  # a duplicated key is reported where it is repeated
    f = tmp_path / "a.yaml"
    f.write_text(text, encoding="utf-8")
    message = run_cli_error(["arch", "show", str(f), "--json"], capsys)
    assert message.startswith(f"{f}:{line}:"), message
    assert fragment in message, message


def test_alias_bomb_in_an_architecture_is_refused(tmp_path, capsys) -> None:
    f = tmp_path / "a.yaml"
    f.write_text(BASE + BOMB, encoding="utf-8")
    message = run_cli_error(["arch", "show", str(f)], capsys)
    assert message.startswith(f"{f}:{BASE.count(chr(10)) + 2}:") and "alias bomb" in message


def test_non_utf8_architecture_is_refused(tmp_path, capsys) -> None:
    f = tmp_path / "a.yaml"
    f.write_bytes(b"name: \xff\n" + BASE.encode())
    assert run_cli_error(["arch", "show", str(f)], capsys).startswith(f"{f}:1:7: not UTF-8 text: byte 0xff at byte offset 6")


# eval reads an undotted --set NAME=VALUE as a workload size, so it gets the component fields only
COMMAND_CASES = [("arch show", *c) for c in SET_CASES] + [("eval", *c) for c in SET_CASES if "." in c[0].split("=")[0]]


@pytest.mark.parametrize("command, item, fragment", COMMAND_CASES, ids=[f"{c[0]}-{c[1]}" for c in COMMAND_CASES])
def test_bad_quantity_given_with_set_names_the_flag(command: str, item: str, fragment: str, capsys) -> None:
    arch = str(designs.path("arch", "fusemax.yaml"))
    argv = ["arch", "show", arch] if command == "arch show" else ["eval", "--arch", arch, "--workload", str(GEMM), "--json"]
    message = run_cli_error(argv + ["--set", item], capsys)
    assert message.startswith(f"--set {item.split('=')[0]}="), message
    assert fragment in message, message


def test_eval_refuses_a_buffer_too_small_for_one_element_per_tensor(capsys) -> None:
    argv = ["eval", "--arch", str(designs.path("arch", "fusemax.yaml")), "--workload", str(GEMM), "--json",
            "--set", "GlobalBuffer.capacity_B=1B"]
    message = run_cli_error(argv, capsys)
    assert message.startswith(f"{GEMM}:13:3: Z: no compute unit of FuseMax has room for it")


def test_cases_are_many() -> None:
    assert len(FILE_CASES) + 2 + len(COMMAND_CASES) + 1 >= 50
