"""Build the hub layer artifact the way Lambda runs it, and check it.

SAM calls this through layers/hub/Makefile (``BuildMethod: makefile``, no Docker):

    python3.11 build_layer.py build "$ARTIFACTS_DIR"                       # Lambda: arm64, /opt/python
    python3.11 build_layer.py build DIR --platform manylinux2014_x86_64    # a copy this machine imports
    python3.11 build_layer.py check DIR                                    # what `make validate` proves
    python3.11 build_layer.py build DIR --layer sentry                     # layers/sentry: sentry-sdk alone

``build``:
1. resolves requirements.txt for the target platform (``pip install --dry-run --report``), drops the
   packages the Lambda Python runtime already provides (boto3 and its family: aws-xray-sdk asks for
   botocore, which would otherwise ship a second, uncompiled 22 MB copy shadowing the runtime's), and
   installs exactly the resolved versions of the rest with ``--no-deps`` into ``DIR/python``;
2. copies the ``hub`` package (no ``__pycache__``, no tests);
3. removes what is provably unused and large (PRUNE, each with its reason);
4. compiles every module with ``--invalidation-mode unchecked-hash`` for the runtime's Python:
   timestamp-based ``.pyc`` can silently go stale (or be ignored) once the zip is unpacked with new
   mtimes, and the layer is read-only, so an unusable ``.pyc`` means compiling at every cold start;
5. runs ``check``.

``--layer`` picks one of LAYERS: ``hub`` (the default: the hub package and requirements.txt, 15 MB) or
``sentry`` (layers/sentry/requirements.txt installed without dependencies, no hub package, 1.5 MB).

Stdlib only: it runs under the plain python3.11 that ``sam build`` finds on PATH.
"""

from __future__ import annotations

import argparse
import compileall
import fnmatch
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON_VERSION = (3, 11)
# The ``.pyc`` magic number of CPython 3.11 (fixed for every 3.11.x release): importlib.util.MAGIC_NUMBER.
MAGIC_311 = (3495).to_bytes(2, "little") + b"\r\n"
PYC_TAG = "cpython-311"
MAX_BYTES = 15_000_000  # issue 15: the layer, unzipped, without the boto family, at most 15 MB
LAMBDA_PLATFORM = "manylinux2014_aarch64"  # template.yaml: CompatibleArchitectures [arm64]
# Where Lambda unpacks a layer's python/ (what tracebacks show):
# https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html (layer paths for each runtime)
LAYER_ROOT = "/opt/python"
# Top-level packages whose sources ship next to their .pyc; every other module ships as a sourceless
# .pyc only. Sources + .pyc do not fit the 15 MB budget (measured after pruning, docs/performance.md:
# everything with sources 21.1 MB, only the hub with sources 15.2 MB, all sourceless 14.1 MB), so the
# layer is sourceless: a traceback shows each frame's file (/opt/python/...) and line number but not the
# line's text (read it in the repository at the deployed commit). `build --keep-sources hub` trades that.
KEEP_SOURCES: tuple[str, ...] = ()

# What the Lambda Python 3.11 runtime provides (boto3 and its dependencies), by normalised project name.
# https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html ("an environment that includes the SDK for
# Python (Boto3)"); the runtime's /var/runtime holds boto3 with exactly these dependencies.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"})
# Their import names (and dist-info prefixes), which must not appear in the artifact.
RUNTIME_PROVIDED_PATHS = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "urllib3",
    "dateutil",
    "python_dateutil",
    "six.py",
    "six-",
)


# aws_xray_sdk.ext modules whose library is not in this layer nor in the Lambda runtime.
XRAY_EXT_WITHOUT_LIBRARY = (
    "aiobotocore",
    "aiohttp",
    "bottle",
    "django",
    "flask",
    "flask_sqlalchemy",
    "mysql",
    "pg8000",
    "psycopg",
    "psycopg2",
    "pymongo",
    "pymysql",
    "pynamodb",
    "sqlalchemy",
    "sqlalchemy_core",
)


@dataclass(frozen=True)
class Prune:
    """Paths (fnmatch patterns relative to python/) removed from the artifact, and why that is safe."""

    patterns: tuple[str, ...]
    reason: str
    # Paths under a matching pattern that stay (their directories are descended, not removed).
    keep: tuple[str, ...] = ()


# Time zones the hub names (zoneinfo.ZoneInfo): YouTube's quota day ends at midnight Pacific; and
# every Brazilian zone (IANA's zone1970.tab for BR), which Calendar requests and an org's working
# hours may name (hub.calendar.models): ~30 kB. A zone outside these is validated against the
# runtime's own database, if it has one, else refused by name (docs/calendar.md).
BRAZIL_ZONES = tuple(
    f"America/{city}"
    for city in (
        "Araguaina", "Bahia", "Belem", "Boa_Vista", "Campo_Grande", "Cuiaba", "Eirunepe", "Fortaleza",
        "Maceio", "Manaus", "Noronha", "Porto_Velho", "Recife", "Rio_Branco", "Santarem",
    )
)  # fmt: skip
TZ_ZONES = ("America/Los_Angeles", "America/Sao_Paulo", *BRAZIL_ZONES, "UTC")
TZ_KEEP = (
    "tzdata/zoneinfo/__init__.py",
    "tzdata/zoneinfo/America/__init__.py",
    *(f"tzdata/zoneinfo/{zone}" for zone in TZ_ZONES),
)

# The Sentry modules hub.errortracking's init and reports import (the rest of integrations/ is pruned).
SENTRY_INTEGRATIONS_KEEP = ("__init__", "_wsgi_common", "aws_lambda", "cloud_resource_context", "dedupe")
SENTRY_KEEP = tuple(f"sentry_sdk/integrations/{name}.py" for name in SENTRY_INTEGRATIONS_KEEP)

PRUNE: tuple[Prune, ...] = (
    Prune(
        (
            "aws_lambda_powertools/event_handler/openapi/swagger_ui/*.js",
            "aws_lambda_powertools/event_handler/openapi/swagger_ui/*.css",
        ),
        "Powertools' bundled Swagger UI (1.9 MB of JavaScript and CSS) is served only by "
        "APIGatewayRestResolver.enable_swagger(), which the hub never calls "
        "(tests/unit/test_build_layer.py::test_the_hub_never_serves_swagger_ui)",
    ),
    Prune(
        ("dns", "dnspython-*.dist-info"),
        "dnspython is email-validator's optional deliverability (MX lookup) check, imported only inside "
        "validate_email(check_deliverability=True); the hub always passes check_deliverability=False "
        "(tests/unit/test_build_layer.py::test_email_validation_never_checks_deliverability) and pydantic's "
        "EmailStr does the same",
    ),
    Prune(
        ("anyio", "anyio-*.dist-info"),
        "anyio is httpx's async backend: httpcore imports it only if installed (try/except ImportError) "
        "and uses it only for AsyncClient, which the hub never uses (it is synchronous; "
        "tests/unit/test_build_layer.py::test_the_hub_never_uses_async_httpx); without it `import httpx` is "
        "also cheaper at every cold start",
    ),
    Prune(
        tuple(
            f"aws_lambda_powertools/utilities/{name}"
            for name in ("auth_alpha", "circuit_breaker", "data_masking", "feature_flags", "kafka", "streaming")
        ),
        "Powertools utilities nothing imports: no module of the layer outside each of them names it "
        "(absolute or relative import), and the hub's functions never do "
        "(tests/unit/test_build_layer.py::test_pruned_powertools_utilities_are_never_imported)",
    ),
    Prune(
        ("pydantic/v1", "pydantic/mypy.py"),
        "pydantic's v1 compatibility copy is imported only for `from pydantic.v1 import ...`, the moved v1 "
        "names (pydantic._migration) and types defining the v1 hook __get_validators__; nothing in the layer "
        "or the functions does either (tests/unit/test_build_layer.py::test_nothing_needs_pydantic_v1). "
        "pydantic.mypy is mypy's plugin",
    ),
    Prune(
        tuple(f"aws_xray_sdk/ext/{name}" for name in XRAY_EXT_WITHOUT_LIBRARY),
        "X-Ray patches for libraries neither the layer nor the runtime has: Tracer's patch_all() tries each "
        "supported one and ignores the ImportError it gets with or without the patch module (raise_errors="
        "False); the others (django, flask, ...) are imported only by an application using that framework",
    ),
    Prune(
        ("sentry_sdk/integrations/*", "sentry_sdk/ai"),
        "Sentry's integrations for frameworks and libraries the hub does not use (Django, Celery, OpenAI…, "
        "3.8 MB of sources): hub.errortracking turns default and auto-enabling integrations off and names "
        "only AwsLambdaIntegration and DedupeIntegration; these kept modules are all that init and a report "
        "import (tests/unit/test_errortracking.py::test_a_report_imports_only_the_integrations_the_layer_keeps)",
        keep=SENTRY_KEEP,
    ),
    Prune(
        ("phonenumbers/shortdata/region_*",),
        "libphonenumber's short-number metadata (emergency and service numbers like 190, 1 MB) is loaded "
        "region by region only by phonenumbers.shortnumberinfo's functions (is_valid_short_number, "
        "is_emergency_number…); the hub parses and formats subscriber numbers only "
        "(tests/unit/test_build_layer.py::test_the_hub_never_asks_about_short_numbers); the package's "
        "shortdata/__init__ stays, so `import phonenumbers` is unchanged",
    ),
    Prune(
        ("*.dist-info/RECORD", "*.dist-info/sboms"),
        "pip's uninstall list and the build's software bill of materials: nothing reads them at runtime "
        "(importlib.metadata reads METADATA and entry_points.txt, which stay, as do the licences)",
    ),
    Prune(
        ("bin", "wrapt/*.c"),
        "console scripts pip writes for the build machine, and wrapt's C source (its compiled extension "
        "ships next to it): Lambda never runs or reads them",
    ),
    Prune(
        ("*.pyi", "*/py.typed", "wrapt-stubs"),
        "type stubs and PEP 561 markers: read by type checkers, never imported",
    ),
    Prune(
        ("tzdata/zoneinfo/*",),
        "the IANA database (2.8 MB) is there for zoneinfo.ZoneInfo whatever the runtime ships; the hub names "
        "only the zones kept here (Brasília is a fixed UTC-3 offset, hub.brasilia) "
        "(tests/unit/test_build_layer.py::test_the_hub_names_only_the_time_zones_the_layer_keeps)",
        keep=TZ_KEEP,
    ),
)


def run(cmd: Sequence[str]) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)  # noqa: S603 - fixed pip command lines


def normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def layer_requirements(report: dict[str, object]) -> list[str]:
    """``name==version`` for every package pip resolved, minus what the Lambda runtime provides."""
    pins = []
    for item in report["install"]:  # type: ignore[attr-defined]
        meta = item["metadata"]
        if normalise(meta["name"]) not in RUNTIME_PROVIDED:
            pins.append(f"{meta['name']}=={meta['version']}")
    return sorted(pins, key=str.lower)


def pip_platform_args(platform: str) -> list[str]:
    major, minor = PYTHON_VERSION
    return [
        "--platform",
        platform,
        "--implementation",
        "cp",
        "--python-version",
        f"{major}.{minor}",
        "--only-binary=:all:",
    ]


def install(python_dir: Path, requirements: Path, platform: str, *, direct_only: bool = False) -> list[str]:
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    if direct_only:
        pins = direct_pins(requirements)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            report_path = Path(tmp) / "report.json"
            run(
                [
                    *pip,
                    "install",
                    "-qq",  # errors only (not the warnings about this machine's extra indexes)
                    "--dry-run",  # resolves only; pip before 24 still wants a --target with --platform
                    "--target",
                    str(Path(tmp) / "unused"),
                    "--report",
                    str(report_path),
                    *pip_platform_args(platform),
                    "-r",
                    str(requirements),
                ]
            )
            pins = layer_requirements(json.loads(report_path.read_text(encoding="utf-8")))
    run(
        [
            *pip,
            "install",
            "-qq",
            "--no-deps",
            "--no-compile",
            "--target",
            str(python_dir),
            *pip_platform_args(platform),
            *pins,
        ]
    )
    return pins


def copy_hub(source: Path, python_dir: Path) -> None:
    """The hub package without bytecode caches, tests and the providers' README.md (API notes for
    developers; no module reads them)."""
    shutil.copytree(
        source,
        python_dir / "hub",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests", "test_*.py", "conftest.py", "*.md"),
    )


def matches(relative: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(relative, pattern) for pattern in patterns)


def prune(python_dir: Path, rules: Sequence[Prune] = PRUNE) -> dict[str, int]:
    """Remove every path matching a rule; return the bytes removed per path (relative to python_dir)."""
    patterns = [pattern for rule in rules for pattern in rule.patterns]
    keep = [path for rule in rules for path in rule.keep]
    removed: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(python_dir, topdown=True):
        base = Path(dirpath)
        for name in list(dirnames):
            relative = (base / name).relative_to(python_dir).as_posix()
            holds_kept = any(path == relative or path.startswith(f"{relative}/") for path in keep)
            if matches(relative, patterns) and not holds_kept:
                removed[relative] = tree_size(base / name)
                shutil.rmtree(base / name)
                dirnames.remove(name)
        for name in filenames:
            relative = (base / name).relative_to(python_dir).as_posix()
            if matches(relative, patterns) and relative not in keep:
                removed[relative] = (base / name).stat().st_size
                (base / name).unlink()
    return removed


def trim_metadata(python_dir: Path) -> dict[str, int]:
    """Cut each ``*.dist-info/METADATA`` after its headers: the body is the package's long
    description (pydantic's README and changelog alone are 140 kB). importlib.metadata reads
    the headers (name, version, requirements, entry points' distribution); nothing at runtime
    reads the description. Returns the bytes removed per file."""
    removed: dict[str, int] = {}
    for metadata in sorted(python_dir.glob("*.dist-info/METADATA")):
        text = metadata.read_bytes()
        headers, blank, body = text.partition(b"\n\n")
        if blank and body:
            metadata.write_bytes(headers + b"\n")
            removed[metadata.relative_to(python_dir).as_posix()] = len(text) - len(headers) - 1
    return removed


def compile_tree(python_dir: Path, root_in_runtime: str, keep_sources: Iterable[str] = KEEP_SOURCES) -> None:
    """Compile every module for Python 3.11, hash-based and never checked against its source.

    Top-level entries named in ``keep_sources`` keep their ``.py`` with ``__pycache__/x.cpython-311.pyc``
    beside it (tracebacks show their source lines); every other module becomes a sourceless ``x.pyc``
    in place of ``x.py`` (see KEEP_SOURCES for why).
    """
    keep = set(keep_sources)
    for entry in sorted(python_dir.iterdir()):
        if entry.name == "__pycache__" or not (entry.is_dir() or entry.suffix == ".py"):
            continue
        legacy = entry.name not in keep and "*" not in keep
        compile_one = compileall.compile_dir if entry.is_dir() else compileall.compile_file
        ok = compile_one(
            entry,
            ddir=f"{root_in_runtime}/{entry.name}" if entry.is_dir() else root_in_runtime,
            quiet=1,
            legacy=legacy,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        if not ok:
            raise SystemExit(f"compileall failed on {entry}")
        if legacy:
            for source in [entry] if entry.is_file() else list(entry.rglob("*.py")):
                source.unlink()


def tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def pyc_path(source: Path) -> Path:
    return source.parent / "__pycache__" / f"{source.stem}.{PYC_TAG}.pyc"


def check(artifact: Path, max_bytes: int = MAX_BYTES) -> list[str]:
    """What is wrong with a built layer (``artifact`` holds python/); empty when it is shippable."""
    python_dir = artifact / "python"
    if not python_dir.is_dir():
        return [f"{python_dir} does not exist"]
    problems = []
    for entry in sorted(python_dir.iterdir()):
        if entry.name.startswith(RUNTIME_PROVIDED_PATHS):
            problems.append(f"{entry.name}: the Lambda runtime provides it; the layer must not shadow it")
    for source in sorted(python_dir.rglob("*.py")):
        if source.is_file() and not pyc_path(source).is_file():
            problems.append(f"{source.relative_to(python_dir)}: no {pyc_path(source).name}")
    for pyc in sorted(python_dir.rglob("*.pyc")):
        header = pyc.read_bytes()[:8]
        if header[:4] != MAGIC_311:
            problems.append(f"{pyc.relative_to(python_dir)}: not CPython 3.11 bytecode")
        elif int.from_bytes(header[4:8], "little") != 0b01:  # PEP 552 flags: hash-based, check_source off
            problems.append(f"{pyc.relative_to(python_dir)}: not an unchecked-hash .pyc")
    size = tree_size(artifact)
    if size > max_bytes:
        problems.append(f"{size / 1e6:.2f} MB unzipped, over the {max_bytes / 1e6:.2f} MB budget")
    return problems


@dataclass(frozen=True)
class Layer:
    """One layer this script builds: its requirements, whether the hub package ships in it, its budget."""

    requirements: Path
    with_hub: bool
    max_bytes: int
    # Install exactly the requirements' pins, not their dependencies: for a layer stacked on the hub
    # layer, whose dependencies the runtime or the hub layer already provide (a second copy in another
    # layer would shadow or be shadowed by the first, depending on the layer order).
    direct_only: bool = False


LAYERS = {
    "hub": Layer(HERE / "requirements.txt", with_hub=True, max_bytes=MAX_BYTES),
    # Error reports (hub.errortracking): sentry-sdk in a layer of its own, stacked on the hub layer,
    # because it does not fit the hub layer's 15 MB (docs/observability.md "Errors: Sentry"). Its
    # dependencies: urllib3 (the runtime's, RUNTIME_PROVIDED) and certifi (the hub layer's, httpx's).
    "sentry": Layer(HERE.parent / "sentry" / "requirements.txt", with_hub=False, max_bytes=1_500_000, direct_only=True),
}


def build(
    artifact: Path, platform: str, root_in_runtime: str | None, keep_sources: Sequence[str], layer: str = "hub"
) -> None:
    if sys.version_info[:2] != PYTHON_VERSION:
        raise SystemExit(
            f"build_layer.py runs under Python {sys.version_info.major}.{sys.version_info.minor}; the layer's "
            f".pyc must be compiled by the runtime's Python {PYTHON_VERSION[0]}.{PYTHON_VERSION[1]} (use python3.11)"
        )
    python_dir = artifact / "python"
    if python_dir.exists():
        shutil.rmtree(python_dir)
    python_dir.mkdir(parents=True)
    spec = LAYERS[layer]
    pins = install(python_dir, spec.requirements, platform, direct_only=spec.direct_only)
    print(f"installed (--no-deps): {' '.join(pins)}")
    if spec.with_hub:
        copy_hub(HERE / "hub", python_dir)
    for path, size in sorted(prune(python_dir).items()):
        print(f"pruned {path} ({size / 1e3:.0f} kB)")
    trimmed = trim_metadata(python_dir)
    print(f"trimmed the long descriptions of {len(trimmed)} METADATA files ({sum(trimmed.values()) / 1e3:.0f} kB)")
    compile_tree(python_dir, root_in_runtime or str(python_dir.resolve()), keep_sources)
    report(artifact, spec.max_bytes)


def direct_pins(requirements: Path) -> list[str]:
    """The ``name==version`` lines of a requirements file (comments and blank lines aside)."""
    pins = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        pin = line.split("#", 1)[0].strip()
        if pin:
            pins.append(pin)
    return pins


def report(artifact: Path, max_bytes: int = MAX_BYTES) -> None:
    problems = check(artifact, max_bytes)
    print(f"layer artifact {artifact}: {tree_size(artifact) / 1e6:.1f} MB unzipped")
    if problems:
        raise SystemExit("layer artifact check failed:\n  " + "\n  ".join(problems))
    print("layer artifact check: unchecked-hash .pyc for every module, no boto family, within budget")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    build_cmd = sub.add_parser("build", help="build the layer into DIR/python")
    build_cmd.add_argument("artifact", type=Path)
    build_cmd.add_argument("--platform", default=LAMBDA_PLATFORM)
    build_cmd.add_argument("--layer", choices=sorted(LAYERS), default="hub", help="which layer (default hub)")
    build_cmd.add_argument(
        "--runtime-root",
        help=f"the path of python/ where the layer runs (default {LAYER_ROOT} for Lambda, else DIR/python)",
    )
    build_cmd.add_argument(
        "--keep-sources",
        action="append",
        default=list(KEEP_SOURCES),
        metavar="PACKAGE",
        help="ship this top-level package's .py next to its .pyc (repeatable; * for every package)",
    )
    check_cmd = sub.add_parser("check", help="check a built layer (DIR holds python/)")
    check_cmd.add_argument("artifact", type=Path)
    check_cmd.add_argument("--layer", choices=sorted(LAYERS), default="hub", help="whose budget (default hub)")
    args = parser.parse_args(argv)
    if args.command == "build":
        root = args.runtime_root or (LAYER_ROOT if args.platform == LAMBDA_PLATFORM else None)
        build(args.artifact, args.platform, root, args.keep_sources, args.layer)
    else:
        report(args.artifact, LAYERS[args.layer].max_bytes)


if __name__ == "__main__":
    main()
