"""Where hwcomponents runs: this interpreter, or a cached CPython >= 3.12 environment.

hwcomponents needs Python >= 3.12; einsim supports 3.11. When hwcomponents is importable here
(``pip install "einsim[components]"`` on 3.12) it is called in-process. Otherwise einsim builds,
once, a virtual environment in the user cache folder with a CPython >= 3.12 it finds
(``EINSIM_PYTHON312``, ``python3.12``/``python3.13`` on PATH, or pyenv), installs the pinned
hwcomponents packages there and runs ``worker.py`` in it as a subprocess. In both cases the
CACTI binary of the hwcomponents-cacti wheel is rebuilt from the C++ source the wheel ships when
the prebuilt one does not run (it needs glibc 2.38), and so is hwcomponents-neurosim's NeuroSim
(from the NeuroSim sources in its wheel with the wheel's ``drop_in`` files).
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

from einsim.errors import EinsimError

PACKAGES = (
    "hwcomponents==1.0.114",
    "hwcomponents-cacti==1.0.40",
    "hwcomponents-library==1.0.58",
    "hwcomponents-neurosim==1.0.43",
)
WORKER = Path(__file__).with_name("worker.py")
HOW_TO_GET = (
    "hwcomponents is not available: on CPython >= 3.12 run `pip install \"einsim[components]\"`, "
    "or make a CPython >= 3.12 findable (python3.12 on PATH, pyenv, or EINSIM_PYTHON312=PATH) "
    "and einsim builds its cached environment itself"
)

Log = Callable[[str], None]


def environment_dir() -> Path:
    """The cached environment: $EINSIM_COMPONENTS_ENV, else <user cache>/einsim/components-venv."""
    if os.environ.get("EINSIM_COMPONENTS_ENV"):
        return Path(os.environ["EINSIM_COMPONENTS_ENV"])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "einsim" / "components-venv"


def importable_here() -> bool:
    return importlib.util.find_spec("hwcomponents_cacti") is not None


def _is_python312(path: str) -> bool:
    check = "import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)"
    try:
        return subprocess.run([path, "-c", check], capture_output=True, timeout=30).returncode == 0
    except OSError:
        return False


def find_python312() -> str | None:
    """A working CPython >= 3.12 interpreter (a pyenv shim that fails does not count), or None."""
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.join(os.path.expanduser("~"), ".pyenv")
    candidates = [os.environ.get("EINSIM_PYTHON312"), shutil.which("python3.13"),
                  shutil.which("python3.12"),
                  *sorted(glob.glob(os.path.join(pyenv_root, "versions", "3.1[2-9]*", "bin", "python")))]
    return next((c for c in candidates if c and _is_python312(c)), None)


def _cacti_runs(cacti_dir: Path) -> bool:
    binary = cacti_dir / "cacti"
    if not binary.is_file():
        return False
    out = subprocess.run([str(binary)], cwd=cacti_dir, capture_output=True, text=True)
    return "how to use CACTI" in out.stdout + out.stderr


def ensure_cacti(cacti_dir: Path, log: Log) -> None:
    """Rebuild hwcomponents-cacti's CACTI from its shipped source if the prebuilt binary fails."""
    if _cacti_runs(cacti_dir):
        return
    log(f"building CACTI from the hwcomponents-cacti sources in {cacti_dir} (once, about a minute)")
    build = subprocess.run(["make", "opt"], cwd=cacti_dir, capture_output=True, text=True)
    built = cacti_dir / "obj_opt" / "cacti"
    if build.returncode != 0 or not built.is_file():
        tail = (build.stderr or build.stdout).strip().splitlines()[-1:] or ["no output"]
        raise EinsimError(f"building CACTI in {cacti_dir} failed (needs make and g++): {tail[0]}")
    shutil.copy2(built, cacti_dir / "cacti")
    if not _cacti_runs(cacti_dir):
        raise EinsimError(f"the CACTI rebuilt in {cacti_dir} does not run")


def _neurosim_runs(package: Path) -> bool:
    binary = package / "NeuroSim" / "main"
    out = subprocess.run([str(binary)], cwd=binary.parent, capture_output=True, text=True)
    return "GLIBC" not in out.stderr


def ensure_neurosim(package: Path, log: Log) -> None:
    """Rebuild hwcomponents-neurosim's NeuroSim (its sources plus the wheel's drop_in files)."""
    if _neurosim_runs(package):
        return
    log(f"building NeuroSim from the hwcomponents-neurosim sources in {package} (once, ~3 min)")
    with tempfile.TemporaryDirectory() as tmp:
        build_dir = Path(tmp) / "NeuroSIM"
        shutil.copytree(package / "DNN_NeuroSim_V1.3" / "Inference_pytorch" / "NeuroSIM", build_dir)
        for f in (package / "drop_in").iterdir():
            shutil.copy2(f, build_dir / f.name)
        build = subprocess.run(["make"], cwd=build_dir, capture_output=True, text=True)
        if build.returncode != 0 or not (build_dir / "main").is_file():
            tail = (build.stderr or build.stdout).strip().splitlines()[-1:] or ["no output"]
            raise EinsimError(f"building NeuroSim in {build_dir} failed: {tail[0]}")
        shutil.copy2(build_dir / "main", package / "NeuroSim" / "main")


def _package_dir(python: str, package: str) -> Path:
    code = f"import {package}, os; print(os.path.dirname({package}.__file__))"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def ensure_binaries(python: str, log: Log) -> None:
    """CACTI and NeuroSim binaries that run on this machine's glibc."""
    ensure_cacti(_package_dir(python, "hwcomponents_cacti") / "cacti", log)
    ensure_neurosim(_package_dir(python, "hwcomponents_neurosim"), log)


def ensure_environment(log: Log) -> str:
    """The python of the cached environment, building it on first use."""
    env = environment_dir()
    python = env / "bin" / "python"
    ready = env / "einsim-ready.json"
    if ready.is_file() and python.is_file() and json.loads(ready.read_text()) == list(PACKAGES):
        return str(python)
    base = find_python312()
    if base is None:
        raise EinsimError(HOW_TO_GET)
    log(f"creating the hwcomponents environment in {env} with {base} (once; cached)")
    try:
        subprocess.run([base, "-m", "venv", str(env)], check=True, capture_output=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PACKAGES], check=True,
                       capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or "").strip().splitlines()[-1:] or [str(exc)]
        raise EinsimError(f"creating {env} failed: {detail[0]}") from exc
    ensure_binaries(str(python), log)
    ready.write_text(json.dumps(list(PACKAGES)))
    return str(python)


def run_models(requests: list[dict[str, Any]], log: Log) -> tuple[list[dict[str, Any]], str]:
    """Evaluate model requests with hwcomponents; returns (results, where they ran)."""
    if importable_here():
        from einsim.arch.estimate import worker

        ensure_binaries(sys.executable, log)
        return worker.evaluate_all(requests), f"in-process (Python {sys.version.split()[0]})"
    python = ensure_environment(log)
    out = subprocess.run([python, str(WORKER)], input=json.dumps(requests), capture_output=True,
                         text=True)
    if out.returncode != 0:
        last = out.stderr.strip().splitlines()[-1:] or ["no output"]
        raise EinsimError(f"hwcomponents failed in {python}: {last[0]}")
    return json.loads(out.stdout), f"subprocess {python}"
