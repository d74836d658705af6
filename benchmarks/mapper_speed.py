"""Mapper speed side by side with AccelForge: time to the energy optimum of the same problems.

    python benchmarks/mapper_speed.py [--json] [--peers] [--case NAME ...]

Problems (shared/reference/accelforge.md §5, Appendix A): AccelForge's benchmark design
``arch_pe.yaml`` (DRAM, 8 MiB buffer, PE_X x PE_Y MACs with a weight register per PE; translated
to einsim in benchmarks/accelforge/arch_pe.yaml, the differences listed there) with GEMMs, chains
of GEMMs and QK->AV attention pairs, all 8 bit; and the fused GPT-3 6.7B layer of AccelForge's
mapper tutorial on its TPU v4i example (benchmarks/accelforge/tpu_v4i.yaml,
benchmarks/accelforge/gpt3_6p7b_layer.yaml). Objective: energy, one worker, keep/bypass choices
searched at every on-chip level (AccelForge's ``may_keep: All``).

Per case: ``einsim_seconds`` is the wall time of a fresh process that loads the design and the
workload and runs the whole-cascade search (process start counted; numba's cache is warmed first
and not counted); ``einsim_cpu_s`` its CPU time (robust on a shared machine). AccelForge sums the
Einsums' latencies; ``einsim_latency_s`` is einsim's timing of its best mapping and
``einsim_latency_sum_s`` the sum of its Einsums' latencies (AccelForge's rule).

With ``--peers`` AccelForge runs live (``peer_live: true``) in a CPython 3.12 venv built once in
~/.cache/einsim/peers-venv (accelforge 1.0.467 from the package index, as measured in
accelforge.md; needs a CPython >= 3.12: $EINSIM_PYTHON312, pyenv's 3.12 or python3.12 on PATH),
with ``--jobs 1``; ``peer_seconds`` is the wall time of its process. Without ``--peers`` the figures
recorded in accelforge.md §5.2 (process wall, idle 2-core x86_64) are printed (``peer_live: false``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks" / "accelforge"
PEER_DIR = HERE / "peer"
PEER_VENV = Path(os.environ.get("EINSIM_PEERS_VENV", Path.home() / ".cache" / "einsim" / "peers-venv"))
ACCELFORGE = "accelforge==1.0.467"  # the version accelforge.md measured
RECORDED_SOURCE = "shared/reference/accelforge.md §5.2 (accelforge 1.0.467, --jobs 1, idle 2-core x86_64): process wall s, energy J, latency s"


@dataclass
class Case:
    name: str
    arch: str  # einsim design (path relative to the repository)
    arch_set: dict  # einsim --set overrides
    workload: str  # einsim workload YAML text
    peer: dict  # the AccelForge run (benchmarks/accelforge/peer/run_case.py)
    recorded: dict | None = None  # accelforge.md §5.2: wall_s, energy_J, latency_s
    bypass: bool = True
    notes: list[str] = field(default_factory=list)


def gemm_text(m: int) -> str:
    return (f"name: gemm{m}\nranks: {{M: {m}, K: {m}, N: {m}}}\ntensors: {{A: [M, K], B: [K, N], Z: [M, N]}}\n"
            "einsums: |\n  Z[m, n] = A[m, k] * B[k, n]\n")


def chain_text(m: int, n: int) -> str:
    """AccelForge's w_chain.yaml: T{i+1}[m, n{i+1}] = T{i}[m, n{i}] * W{i}[n{i}, n{i+1}]."""
    ranks = ", ".join([f"M: {m}"] + [f"N{i}: {m}" for i in range(n + 1)])
    tensors = [f"  T{i}: [M, N{i}]" for i in range(n + 1)] + [f"  W{i}: [N{i}, N{i + 1}]" for i in range(n)]
    body = "".join(f"  T{i + 1}[m, n{i + 1}] = T{i}[m, n{i}] * W{i}[n{i}, n{i + 1}]\n" for i in range(n))
    return f"name: chain{n}_{m}\nranks: {{{ranks}}}\ntensors:\n" + "\n".join(tensors) + "\neinsums: |\n" + body


def qkav_text(m: int, e: int, softmax: bool) -> str:
    """AccelForge's w_qkav.yaml: QK[m, p] = Q[m, e] K[p, e] (S = QK, a copy), AV[m, f] = S[m, p] V[p, f]."""
    s = "S" if softmax else "QK"
    tensors = f"{{Q: [M, E], K: [P, E], QK: [M, P], {'S: [M, P], ' if softmax else ''}V: [P, F], AV: [M, F]}}"
    body = "  QK[m, p] = Q[m, e] * K[p, e]\n" + ("  S[m, p] = QK[m, p]\n" if softmax else "") + f"  AV[m, f] = {s}[m, p] * V[p, f]\n"
    return f"name: qkav\nranks: {{M: {m}, P: {m}, E: {e}, F: {e}}}\ntensors: {tensors}\neinsums: |\n" + body


PE = "benchmarks/accelforge/arch_pe.yaml"
PE256 = {"components.PEArray.shape": [256, 256], "components.ScalarUnit.shape": [256]}


def _peer(workload: str, jinja: dict, pe256: bool = False) -> dict:
    jinja = {**jinja, **({"PE_X": 256, "PE_Y": 256} if pe256 else {})}
    return {"arch": str(PEER_DIR / "arch_pe.yaml"), "workload": str(PEER_DIR / workload), "jinja": jinja}


def _rec(wall: float, energy: float, latency: float) -> dict:
    return {"wall_s": wall, "energy_J": energy, "latency_s": latency}


CASES = [
    Case("gemm4_pe4", PE, {"components.PEArray.shape": [4, 4], "components.ScalarUnit.shape": [4]}, gemm_text(4),
         _peer("w_gemm.yaml", {"M": 4, "PE_X": 4, "PE_Y": 4})),  # the smallest: for the tests
    Case("gemm16_pe16", PE, {}, gemm_text(16), _peer("w_gemm.yaml", {"M": 16}), _rec(2.8, 4.3536e-08, 1.5238e-08)),
    Case("gemm1024_pe16", PE, {}, gemm_text(1024), _peer("w_gemm.yaml", {"M": 1024}), _rec(2.8, 3.3108e-03, 3.9946e-03)),
    Case("gemm1024_pe256", PE, PE256, gemm_text(1024), _peer("w_gemm.yaml", {"M": 1024}, True),
         _rec(3.1, 4.7213e-04, 1.5604e-05)),
    *[Case(f"chain{n}_{m}_pe16", PE, {}, chain_text(m, n), _peer("w_chain.yaml", {"M": m, "N_EINSUMS": n}),
           rec) for n, m, rec in [
        (2, 256, _rec(8.2, 1.1219e-04, 1.2483e-04)), (4, 256, _rec(15.6, 2.1503e-04, 2.4966e-04)),
        (8, 256, _rec(38.5, 4.2071e-04, 4.9932e-04)), (2, 1024, _rec(9.4, 6.4722e-03, 7.9892e-03)),
        (4, 1024, _rec(23.1, 0.012795, 0.015978)), (8, 1024, None)]],
    Case("qkav_1024_pe16", PE, {}, qkav_text(1024, 128, False), _peer("w_qkav.yaml", {"M": 1024, "E": 128}),
         _rec(8.4, 7.9522e-04, 9.9864e-04)),
    Case("qksav_1024_pe16", PE, {}, qkav_text(1024, 128, True),
         _peer("w_qkav.yaml", {"M": 1024, "E": 128, "SOFTMAX": True}), _rec(9.3, 8.2685e-04, 1.0611e-03)),
    Case("gpt3_6p7b_layer_fused", "benchmarks/accelforge/tpu_v4i.yaml", {},
         (HERE / "gpt3_6p7b_layer.yaml").read_text(),
         {"arch": "examples:arches.tpu_v4i", "workload": "examples:workloads.gpt3_6_7B",
          "jinja": {"BATCH_SIZE": 1, "N_TOKENS": 8192}, "max_fused_loops": 1},
         _rec(321.8, 0.5465, 0.03601)),
]
BY_NAME = {c.name: c for c in CASES}


# ---------------------------------------------------------------- einsim side


def run_einsim_case(name: str, method: str = "auto") -> dict:
    """Map one case in this process (energy objective, one worker); the search's own figures."""
    from einsim.arch import load_arch
    from einsim.einsum import parse_workload
    from einsim.mappers.fused import evaluate_mapping, map_cascade

    case = BY_NAME[name]
    start = time.perf_counter()
    arch = load_arch(str(ROOT / case.arch), case.arch_set)
    cascade = parse_workload(case.workload, file=f"<{name}>")
    res = map_cascade(cascade, arch, "energy", workers=1, method=method, bypass=case.bypass)
    seconds = time.perf_counter() - start
    if res.best is None:
        return {"name": name, "einsim_search_s": seconds, "einsim_energy_J": None, "einsim_latency_s": None,
                "einsim_latency_sum_s": None, "optimal": res.optimal, "evaluated": res.evaluated,
                "mapspace_size": res.mapspace_size}
    cost = evaluate_mapping(res.best, cascade, arch)
    return {"name": name, "einsim_search_s": seconds, "einsim_energy_J": res.energy_J, "einsim_latency_s": res.latency_s,
            "einsim_latency_sum_s": sum(c.latency_s for c in cost.einsums), "optimal": res.optimal,
            "evaluated": res.evaluated, "capacity_pruned": res.capacity_pruned, "mapspace_size": res.mapspace_size,
            "fused": [list(g.einsums) for g in res.best.fusion]}


def _timed(cmd: list[str], cwd: str | None = None, env: dict | None = None) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} ... failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc.stdout


def einsim_side(name: str) -> dict:
    """The case in a fresh process: its wall and CPU time, and what the search found."""
    wall, cpu, out = _timed([sys.executable, str(Path(__file__).resolve()), "--einsim-case", name])
    row = json.loads(out.strip().splitlines()[-1])
    return {**row, "einsim_seconds": wall, "einsim_cpu_s": cpu}


def warm_numba() -> None:
    """Compile (or load) the kernels once so that no timed run pays numba's compile."""
    from einsim.arch import load_arch
    from einsim.einsum import parse_workload
    from einsim.mappers.fused import map_cascade

    map_cascade(parse_workload(gemm_text(2)), load_arch(str(ROOT / PE)), "energy", bypass=True)


# ---------------------------------------------------------------- AccelForge side


def _python312() -> str | None:
    for cand in (os.environ.get("EINSIM_PYTHON312"), shutil.which("python3.12"),
                 str(Path.home() / ".pyenv" / "versions" / "3.12.1" / "bin" / "python")):
        if cand and Path(cand).exists():
            return cand
    return None


def peer_python(build: bool) -> tuple[str | None, str]:
    """(the venv's python with accelforge, or None; why not). Builds the venv once when ``build``."""
    py = PEER_VENV / "bin" / "python"
    check = [str(py), "-c", "import accelforge"]
    if py.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return str(py), ""
    if not build:
        return None, f"no accelforge venv at {PEER_VENV}"
    base = _python312()
    if base is None:
        return None, "no CPython >= 3.12 found (set EINSIM_PYTHON312)"
    print(f"building {PEER_VENV} with {ACCELFORGE} (once; about a minute) ...", file=sys.stderr)
    subprocess.run([base, "-m", "venv", str(PEER_VENV)], check=True)
    got = subprocess.run([str(py), "-m", "pip", "install", "-q", ACCELFORGE], capture_output=True, text=True)
    if got.returncode != 0 or subprocess.run(check, capture_output=True).returncode != 0:
        return None, f"pip install {ACCELFORGE} failed: {got.stderr.strip()[-300:]}"
    return str(py), ""


def peer_side(case: Case, py: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:  # AccelForge writes mapping.svg into its working directory
        wall, cpu, out = _timed([py, str(PEER_DIR / "run_case.py"), json.dumps(case.peer)], cwd=tmp)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    res = json.loads(line[len("RESULT "):])
    return {"peer_seconds": wall, "peer_cpu_s": cpu, "peer_energy_J": res["energy_J"], "peer_latency_s": res["latency_s"],
            "peer_live": True, "peer_detail": res}


def recorded_side(case: Case) -> dict:
    r = case.recorded
    return {"peer_seconds": r and r["wall_s"], "peer_energy_J": r and r["energy_J"], "peer_latency_s": r and r["latency_s"],
            "peer_live": False, "peer_source": RECORDED_SOURCE if r else "not recorded in accelforge.md"}


# ---------------------------------------------------------------- report


def load_average() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--peers", action="store_true", help="run AccelForge live (builds its venv once)")
    ap.add_argument("--case", action="append", choices=list(BY_NAME), help="only these cases (default: all)")
    ap.add_argument("--einsim-case", choices=list(BY_NAME), help=argparse.SUPPRESS)  # the timed child process
    args = ap.parse_args(argv)
    if args.einsim_case:
        print(json.dumps(run_einsim_case(args.einsim_case)))
        return 0
    names = args.case or [c.name for c in CASES]
    py, why = peer_python(build=True) if args.peers else (None, "")
    warm_numba()
    if py is not None:  # AccelForge's numba kernels too (its first run compiles them for about 6 s)
        peer_side(BY_NAME["gemm16_pe16"], py)
    load_before = load_average()
    cases = []
    for name in names:
        case = BY_NAME[name]
        row = einsim_side(name)
        row["peer"] = "accelforge"
        if py is not None:
            try:
                row.update(peer_side(case, py))
            except (RuntimeError, StopIteration) as exc:
                row.update(recorded_side(case), peer_error=str(exc))
        else:
            row.update(recorded_side(case), **({"peer_error": why} if why else {}))
        if row["einsim_energy_J"] and row["peer_energy_J"]:
            row["energy_ratio"] = row["einsim_energy_J"] / row["peer_energy_J"]
            row["speedup"] = row["peer_seconds"] / row["einsim_seconds"]
        cases.append(row)
        print(json.dumps(row) if args.json else _line(row), file=sys.stderr if args.json else sys.stdout, flush=True)
    report = {"load_average_before": load_before, "load_average_after": load_average(), "cases": cases}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"load average before/after: {load_before} / {report['load_average_after']}")
    return 0


def _line(r: dict) -> str:
    def g(x):
        return "-" if x is None else f"{x:.5g}"
    tag = "live" if r["peer_live"] else "recorded"
    return (f"{r['name']:<24} einsim {g(r['einsim_seconds'])} s (cpu {g(r['einsim_cpu_s'])}) E={g(r['einsim_energy_J'])} J "
            f"L={g(r['einsim_latency_s'])} s (sum {g(r['einsim_latency_sum_s'])}) optimal={r['optimal']} | "
            f"accelforge [{tag}] {g(r['peer_seconds'])} s E={g(r['peer_energy_J'])} J L={g(r['peer_latency_s'])} s")


if __name__ == "__main__":
    raise SystemExit(main())
