"""The code the cold-start bench runs, laid out like Lambda's /opt/python and /var/runtime, for this
machine (x86_64): built into .aws-sam/bench/ and rebuilt only when its inputs change.

* ``shipped``: layers/hub/build_layer.py for manylinux2014_x86_64, i.e. what `sam build` ships
  (boto family excluded, pruned, unchecked-hash .pyc) but importable here;
* ``source``: what the layer was before (BuildMethod python3.11): requirements.txt with every
  dependency (aws-xray-sdk's botocore included) and the hub's sources, no .pyc;
* ``runtime``: what the Lambda Python runtime provides (boto3 and its family), copied from this
  virtualenv with its .pyc, like the runtime's precompiled copy.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER_SRC = ROOT / "layers" / "hub"
OUT = ROOT / ".aws-sam" / "bench"
X86 = "manylinux2014_x86_64"
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six")


def _fingerprint(*paths: Path) -> str:
    digest = hashlib.sha256()
    for base in paths:
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _fresh(target: Path, fingerprint: str) -> bool:
    stamp = target / ".fingerprint"
    return stamp.is_file() and stamp.read_text() == fingerprint


def _stamp(target: Path, fingerprint: str) -> None:
    (target / ".fingerprint").write_text(fingerprint)


def shipped_layer() -> Path:
    """The shipped build for x86_64 (its python/ directory)."""
    target = OUT / "layer-shipped"
    fingerprint = _fingerprint(LAYER_SRC / "requirements.txt", LAYER_SRC / "build_layer.py", LAYER_SRC / "hub")
    if not _fresh(target, fingerprint):
        print("building the shipped layer for x86_64 (layers/hub/build_layer.py) ...", flush=True)
        subprocess.run(
            [sys.executable, str(LAYER_SRC / "build_layer.py"), "build", str(target), "--platform", X86],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        _stamp(target, fingerprint)
    return target / "python"


def source_layer() -> Path:
    """The layer as BuildMethod python3.11 built it: every dependency, sources only (its python/)."""
    target = OUT / "layer-source"
    fingerprint = _fingerprint(LAYER_SRC / "requirements.txt", LAYER_SRC / "hub")
    if not _fresh(target, fingerprint):
        print("building the source-only layer for x86_64 (pip, like BuildMethod python3.11) ...", flush=True)
        shutil.rmtree(target, ignore_errors=True)
        python_dir = target / "python"
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "-qq", "--no-compile", "--target", str(python_dir)),
                *("--platform", X86, "--implementation", "cp", "--python-version", "3.11", "--only-binary=:all:"),
                *("-r", str(LAYER_SRC / "requirements.txt")),
            ],
            check=True,
        )
        shutil.copytree(LAYER_SRC / "hub", python_dir / "hub", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        _stamp(target, fingerprint)
    return target / "python"


def function_deps(code_dir: Path) -> list[Path]:
    """A function's own requirements.txt (DesignTemplateRender's renderer), installed as
    `sam build` puts them beside its code, for x86_64: [] for a function without one."""
    requirements = code_dir / "requirements.txt"
    if not requirements.is_file():
        return []
    target = OUT / f"function-{code_dir.name}"
    fingerprint = _fingerprint(requirements)
    if not _fresh(target, fingerprint):
        print(f"installing {code_dir.name}'s requirements for x86_64 (pip) ...", flush=True)
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "-qq", "--target", str(target)),
                *("--platform", X86, "--implementation", "cp", "--python-version", "3.11", "--only-binary=:all:"),
                *("-r", str(requirements)),
            ],
            check=True,
        )
        _stamp(target, fingerprint)
    return [target]


def runtime_dir() -> Path:
    """boto3 and its family from this virtualenv, with their .pyc (Lambda's /var/runtime)."""
    target = OUT / "runtime"
    versions = ",".join(f"{name}=={importlib.metadata.version(name)}" for name in RUNTIME_PACKAGES)
    if not _fresh(target, versions):
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in RUNTIME_PACKAGES:
            dist = importlib.metadata.distribution(name)
            for top in (dist.read_text("top_level.txt") or name).split():
                spec = importlib.util.find_spec(top)
                assert spec and spec.origin, top
                origin = Path(spec.origin)
                if origin.name == "__init__.py":
                    shutil.copytree(origin.parent, target / top)
                else:
                    shutil.copy2(origin, target / origin.name)
                    cached = Path(spec.cached) if spec.cached else None
                    if cached and cached.exists():
                        (target / "__pycache__").mkdir(exist_ok=True)
                        shutil.copy2(cached, target / "__pycache__" / cached.name)
        _stamp(target, versions)
    return target


def tree_size(path: Path, exclude: tuple[str, ...] = ()) -> int:
    """Bytes under ``path``, without top-level entries whose name starts with one of ``exclude``."""
    total = 0
    for entry in path.iterdir() if path.is_dir() else [path]:
        if entry.name.startswith(exclude) if exclude else False:
            continue
        if entry.is_file():
            total += entry.stat().st_size
        else:
            total += sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
    return total
