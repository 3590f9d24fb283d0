"""layers/hub/build_layer.py: what it prunes, how it compiles, what its check refuses (on tiny fake
trees, no pip), and the facts each prune relies on (scanned in the hub, the functions and the
installed libraries the layer ships)."""

from __future__ import annotations

import ast
import importlib.util
import py_compile
import types
from collections.abc import Iterator
from pathlib import Path

import build_layer
import pytest

ROOT = Path(__file__).resolve().parents[2]
HUB = ROOT / "layers" / "hub" / "hub"
FUNCTIONS = ROOT / "functions"


def write(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def fake_layer(tmp_path: Path) -> Path:
    python = tmp_path / "artifact" / "python"
    write(python / "hub" / "__init__.py")
    write(python / "hub" / "api.py", "def answer():\n    return 42\n")
    write(python / "pydantic" / "__init__.py")
    write(python / "pydantic" / "v1" / "__init__.py")
    write(python / "pydantic" / "mypy.py")
    write(python / "pydantic" / "py.typed", "")
    write(python / "dns" / "resolver.py")
    write(python / "dnspython-2.9.2.dist-info" / "METADATA", "Name: dnspython\n")
    write(python / "anyio" / "__init__.py")
    write(python / "httpx" / "__init__.py")
    write(python / "httpx" / "_client.pyi", "")
    write(python / "pydantic-2.14.3.dist-info" / "METADATA", "Name: pydantic\n")
    write(python / "pydantic-2.14.3.dist-info" / "RECORD", "pydantic/__init__.py,,\n")
    swagger = python / "aws_lambda_powertools" / "event_handler" / "openapi" / "swagger_ui"
    write(swagger / "__init__.py")
    write(swagger / "swagger-ui-bundle.min.js", "/* 1.5 MB */")
    write(python / "aws_lambda_powertools" / "utilities" / "feature_flags" / "__init__.py")
    write(python / "aws_lambda_powertools" / "utilities" / "idempotency" / "__init__.py")
    write(python / "aws_xray_sdk" / "ext" / "django" / "__init__.py")
    write(python / "aws_xray_sdk" / "ext" / "httpx" / "__init__.py")
    write(python / "typing_extensions.py")
    return python


def test_prune_removes_the_listed_paths_and_keeps_what_functions_import(tmp_path: Path) -> None:
    python = fake_layer(tmp_path)

    removed = build_layer.prune(python)

    assert set(removed) == {
        "pydantic/v1",
        "pydantic/mypy.py",
        "pydantic/py.typed",
        "dns",
        "dnspython-2.9.2.dist-info",
        "anyio",
        "httpx/_client.pyi",
        "pydantic-2.14.3.dist-info/RECORD",
        "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui-bundle.min.js",
        "aws_lambda_powertools/utilities/feature_flags",
        "aws_xray_sdk/ext/django",
    }
    for kept in (
        "hub/api.py",
        "pydantic/__init__.py",
        "pydantic-2.14.3.dist-info/METADATA",  # importlib.metadata.version() reads it
        "httpx/__init__.py",
        "aws_lambda_powertools/event_handler/openapi/swagger_ui/__init__.py",
        "aws_lambda_powertools/utilities/idempotency/__init__.py",
        "aws_xray_sdk/ext/httpx/__init__.py",
        "typing_extensions.py",
    ):
        assert (python / kept).exists(), kept
    assert removed["aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui-bundle.min.js"] == 12


def test_the_time_zone_database_keeps_only_the_zones_the_hub_names(tmp_path: Path) -> None:
    python = tmp_path / "python"
    for relative in (
        "tzdata/__init__.py",
        "tzdata/zones",
        "tzdata/zoneinfo/__init__.py",
        "tzdata/zoneinfo/UTC",
        "tzdata/zoneinfo/Europe/__init__.py",
        "tzdata/zoneinfo/Europe/Lisbon",
        "tzdata/zoneinfo/America/__init__.py",
        "tzdata/zoneinfo/America/New_York",
        "tzdata/zoneinfo/Brazil/East",
        *(f"tzdata/zoneinfo/{zone}" for zone in build_layer.TZ_ZONES),
    ):
        (python / relative).parent.mkdir(parents=True, exist_ok=True)
        (python / relative).write_bytes(b"TZif")

    removed = build_layer.prune(python)

    assert set(removed) == {"tzdata/zoneinfo/Europe", "tzdata/zoneinfo/America/New_York", "tzdata/zoneinfo/Brazil"}
    for zone in build_layer.TZ_ZONES:
        assert (python / "tzdata/zoneinfo" / zone).exists(), zone


def test_the_hub_names_only_the_time_zones_the_layer_keeps() -> None:
    import re

    named: set[str] = set()
    for path in (ROOT / "layers/hub/hub").rglob("*.py"):
        named |= set(
            re.findall(
                r'"((?:America|Europe|Asia|Africa|Australia|Pacific|Atlantic|Etc)/[A-Za-z_]+)"', path.read_text()
            )
        )
    assert named and named <= set(build_layer.TZ_ZONES)


def test_every_prune_says_why() -> None:
    for rule in build_layer.PRUNE:
        assert rule.patterns and len(rule.reason) > 40, rule


def test_compiled_tree_passes_the_check_and_imports_without_sources(tmp_path: Path) -> None:
    python = fake_layer(tmp_path)
    build_layer.prune(python)

    build_layer.compile_tree(python, "/opt/python", keep_sources=("hub",))

    assert build_layer.check(python.parent) == []
    assert (python / "hub" / "__pycache__" / "api.cpython-311.pyc").is_file()
    assert (python / "hub" / "api.py").is_file()  # kept with its source
    assert not (python / "pydantic" / "__init__.py").exists()  # sourceless
    assert (python / "pydantic" / "__init__.pyc").is_file()
    assert (python / "typing_extensions.pyc").is_file()
    # The sourceless .pyc is what Python imports, and it names /opt/python in tracebacks.
    spec = importlib.util.spec_from_file_location("fake_ext", python / "typing_extensions.pyc")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.x == 1
    loaded = spec.loader.get_code("fake_ext")  # type: ignore[attr-defined]
    assert isinstance(loaded, types.CodeType) and loaded.co_filename == "/opt/python/typing_extensions.py"


def test_check_refuses_a_module_without_its_pyc(tmp_path: Path) -> None:
    python = fake_layer(tmp_path)
    build_layer.compile_tree(python, "/opt/python", keep_sources=("hub",))
    write(python / "hub" / "late.py")

    assert build_layer.check(python.parent) == ["hub/late.py: no late.cpython-311.pyc"]


def test_check_refuses_timestamp_pyc(tmp_path: Path) -> None:
    python = tmp_path / "artifact" / "python"
    source = write(python / "hub" / "api.py")
    py_compile.compile(str(source), cfile=str(build_layer.pyc_path(source)))  # the default: timestamp

    assert build_layer.check(python.parent) == ["hub/__pycache__/api.cpython-311.pyc: not an unchecked-hash .pyc"]


def test_check_refuses_a_checked_hash_pyc(tmp_path: Path) -> None:
    python = tmp_path / "artifact" / "python"
    source = write(python / "hub" / "api.py")
    py_compile.compile(
        str(source),
        cfile=str(build_layer.pyc_path(source)),
        invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
    )

    assert build_layer.check(python.parent) == ["hub/__pycache__/api.cpython-311.pyc: not an unchecked-hash .pyc"]


def test_check_refuses_bytecode_of_another_python(tmp_path: Path) -> None:
    python = tmp_path / "artifact" / "python"
    pyc = python / "legacy.pyc"
    pyc.parent.mkdir(parents=True)
    pyc.write_bytes((3531).to_bytes(2, "little") + b"\r\n" + (1).to_bytes(4, "little") + bytes(8))  # 3.12

    assert build_layer.check(python.parent) == ["legacy.pyc: not CPython 3.11 bytecode"]


@pytest.mark.parametrize(
    "entry", ["botocore", "boto3", "s3transfer", "urllib3", "dateutil", "six.py", "botocore-1.44.8.dist-info"]
)
def test_check_refuses_the_boto_family(tmp_path: Path, entry: str) -> None:
    python = tmp_path / "artifact" / "python"
    (python / entry).mkdir(parents=True)  # a directory even for six.py: the check looks at names

    problem = f"{entry}: the Lambda runtime provides it; the layer must not shadow it"
    assert problem in build_layer.check(python.parent)


def test_check_refuses_an_artifact_over_budget(tmp_path: Path) -> None:
    python = tmp_path / "artifact" / "python"
    write(python / "certifi" / "cacert.pem", "x" * 1_500_000)

    assert build_layer.check(python.parent, max_bytes=1_000_000) == ["1.50 MB unzipped, over the 1.00 MB budget"]
    assert build_layer.check(python.parent, max_bytes=1_500_000) == []


def test_check_refuses_a_missing_artifact(tmp_path: Path) -> None:
    assert build_layer.check(tmp_path) == [f"{tmp_path / 'python'} does not exist"]


def test_layer_requirements_leave_out_what_the_runtime_provides() -> None:
    report = {
        "install": [
            {"metadata": {"name": name, "version": version}}
            for name, version in [
                ("aws-xray-sdk", "2.15.0"),
                ("botocore", "1.44.8"),
                ("wrapt", "2.5.2"),
                ("jmespath", "1.1.0"),
                ("python-dateutil", "2.9.0.post0"),
                ("urllib3", "2.8.0"),
                ("six", "1.17.0"),
                ("pydantic_core", "2.50.4"),
            ]
        ]
    }

    assert build_layer.layer_requirements(report) == ["aws-xray-sdk==2.15.0", "pydantic_core==2.50.4", "wrapt==2.5.2"]


# --- the facts the prunes rely on ----------------------------------------------------------- #


def python_files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        yield from (p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec and spec.origin
    return Path(spec.origin).parent


def imported_modules(path: Path, package: str | None) -> set[str]:
    """Absolute names of what ``path`` imports (relative imports resolved against ``package``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and package:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def module_package(path: Path, root: Path) -> str:
    relative = path.relative_to(root.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    else:
        parts = parts[:-1]
    return ".".join(parts)


SHIPPED_LIBRARIES = (
    "aws_lambda_powertools",
    "aws_xray_sdk",
    "pydantic",
    "email_validator",
    "httpx",
    "httpcore",
    "standardwebhooks",
    "tenacity",
    "phonenumbers",
    "validate_docbr",
)


def test_the_hub_never_serves_swagger_ui() -> None:
    for path in python_files(HUB, FUNCTIONS):
        assert "enable_swagger" not in path.read_text(encoding="utf-8"), path


def test_email_validation_never_checks_deliverability() -> None:
    calls = 0
    for path in python_files(HUB, FUNCTIONS):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "validate_email",
                "validate_email_deliverability",
            ):
                calls += 1
                flags = {kw.arg: kw.value for kw in node.keywords}
                value = flags.get("check_deliverability")
                assert isinstance(value, ast.Constant) and value.value is False, f"{path}:{node.lineno}"
    assert calls >= 1  # hub/emails.py


def test_the_hub_never_uses_async_httpx() -> None:
    for path in python_files(HUB, FUNCTIONS):
        text = path.read_text(encoding="utf-8")
        for name in ("AsyncClient", "AsyncHTTPTransport", "anyio", "AsyncByteStream"):
            assert name not in text, f"{path} uses {name}: anyio must ship (build_layer.PRUNE)"
    for library in ("httpx", "standardwebhooks", "aws_lambda_powertools", "pydantic", "tenacity"):
        root = package_dir(library)
        for path in python_files(root):
            modules = imported_modules(path, module_package(path, root))
            assert not any(m == "anyio" or m.startswith("anyio.") for m in modules), path


def test_pruned_powertools_utilities_are_never_imported() -> None:
    pruned = [
        pattern.rsplit("/", 1)[1]
        for rule in build_layer.PRUNE
        for pattern in rule.patterns
        if pattern.startswith("aws_lambda_powertools/utilities/")
    ]
    assert pruned
    powertools = package_dir("aws_lambda_powertools")
    scanned = [(path, powertools) for path in python_files(powertools)]
    scanned += [(path, HUB) for path in python_files(HUB)] + [(path, FUNCTIONS) for path in python_files(FUNCTIONS)]
    found = []
    for path, root in scanned:
        package = module_package(path, root) if root == powertools else None
        imports = imported_modules(path, package)
        text = path.read_text(encoding="utf-8")
        for name in pruned:
            module = f"aws_lambda_powertools.utilities.{name}"
            if powertools / "utilities" / name in path.parents:
                continue
            if module in text or any(m == module or m.startswith(module + ".") for m in imports):
                found.append(f"{path} imports {module}")
    assert found == []


def test_nothing_needs_pydantic_v1() -> None:
    roots = [HUB, FUNCTIONS] + [package_dir(name) for name in SHIPPED_LIBRARIES]
    for root in roots:
        for path in python_files(root):
            if package_dir("pydantic") in path.parents or path.parent == package_dir("pydantic"):
                continue  # pydantic's own lazy references are the ones the prune reason covers
            text = path.read_text(encoding="utf-8")
            assert "__get_validators__" not in text, f"{path} defines a pydantic v1 type hook"
            assert "pydantic.v1" not in text and "pydantic import v1" not in text, f"{path} imports pydantic.v1"


def test_the_hub_never_asks_about_short_numbers() -> None:
    # build_layer.PRUNE drops phonenumbers' short-number metadata: only shortnumberinfo reads it.
    import phonenumbers.shortnumberinfo as short

    names = {name for name in dir(short) if not name.startswith("_") and callable(getattr(short, name))}
    names -= {"PhoneNumber", "PhoneMetadata", "U", "prnt", "national_significant_number"}
    assert "is_valid_short_number" in names
    for path in python_files(HUB, FUNCTIONS):
        text = path.read_text(encoding="utf-8")
        assert "shortnumberinfo" not in text and "shortdata" not in text, path
        for node in ast.walk(ast.parse(text)):
            called = getattr(node, "attr", getattr(node, "id", None))
            assert called not in names, f"{path}:{getattr(node, 'lineno', '?')} calls phonenumbers' {called}"


def test_trimmed_metadata_still_answers_importlib_metadata(tmp_path: Path) -> None:
    # Given a distribution whose METADATA carries a long description after its headers
    info = tmp_path / "demo_pkg-1.2.3.dist-info"
    info.mkdir()
    headers = "Metadata-Version: 2.4\nName: demo-pkg\nVersion: 1.2.3\nRequires-Dist: httpx>=0.27\n"
    (info / "METADATA").write_text(headers + "Description-Content-Type: text/markdown\n\n# Demo\n" + "x" * 5000)
    before = (info / "METADATA").stat().st_size
    # When the layer build trims it
    removed = build_layer.trim_metadata(tmp_path)
    # Then the body is gone and importlib.metadata still reads name, version and requirements
    after = (info / "METADATA").stat().st_size
    assert removed == {"demo_pkg-1.2.3.dist-info/METADATA": before - after}
    assert before - after > 5000
    from importlib.metadata import PathDistribution

    dist = PathDistribution(info)
    assert (dist.metadata["Name"], dist.version, dist.requires) == ("demo-pkg", "1.2.3", ["httpx>=0.27"])
    assert "x" * 100 not in (info / "METADATA").read_text()
