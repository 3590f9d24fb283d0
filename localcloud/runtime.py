"""In-process Lambda runtime: loads every template function by file path and invokes it."""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from localcloud.template import FunctionSpec, TemplateError

log = logging.getLogger("localcloud.runtime")

MODULE_PREFIX = "_localcloud_fn_"


class EnvConflictError(TemplateError):
    """Two functions need different values for the same environment variable."""


class FunctionNotFoundError(KeyError):
    """No function with that logical id, name or ARN."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "function not found"


def local_overrides(aws_endpoint: str) -> dict[str, str]:
    """Environment forced on every local function (after the template's values)."""
    return {
        "AWS_ENDPOINT_URL": aws_endpoint,
        "STORAGE_ENDPOINT_URL": aws_endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }


def build_environment(functions: Iterable[FunctionSpec], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Union of every function's environment; raises on conflicting values.

    All functions run in one process locally, so a variable can only have one value.
    """
    union: dict[str, str] = dict(base or {})
    owner: dict[str, str] = {k: "Globals" for k in union}
    for fn in functions:
        for key, value in fn.environment.items():
            if key in union and union[key] != value:
                raise EnvConflictError(
                    f"environment variable {key!r} differs between {owner[key]} ({union[key]!r}) and "
                    f"{fn.logical_id} ({value!r}); locally all functions share one process, so give it "
                    "the same value everywhere (or move it to Globals)"
                )
            union[key] = value
            owner.setdefault(key, fn.logical_id)
    return union


class LambdaContext:
    """What the Python Lambda runtime passes as ``context``."""

    def __init__(self, spec: FunctionSpec, request_id: str | None = None) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory_size
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.name}"
        today = datetime.now(UTC).strftime("%Y/%m/%d")
        self.log_stream_name = f"{today}/[$LATEST]{uuid.uuid4().hex}"
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def error_payload(exc: BaseException, request_id: str = "") -> dict[str, Any]:
    """The JSON body the Python runtime returns for an unhandled exception."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_PACKAGE_DIR)]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


@dataclass
class InvokeResult:
    payload: bytes
    error: bool
    request_id: str
    duration_ms: float


class FunctionRuntime:
    """Loads handlers lazily (cold start) and invokes them; thread-safe."""

    def __init__(self, functions: Iterable[FunctionSpec], layer_dirs: Iterable[Path] = ()) -> None:
        self.functions: dict[str, FunctionSpec] = {f.logical_id: f for f in functions}
        self.layer_dirs = [Path(p) for p in layer_dirs]
        self._aliases: dict[str, str] = {}
        for f in self.functions.values():
            self._aliases[f.logical_id] = f.logical_id
            self._aliases[f.name] = f.logical_id
            self._aliases[f.arn] = f.logical_id
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        self._lock = threading.Lock()
        self._added_paths: list[str] = []
        self._preexisting_modules: set[str] = set()
        self._installed = False

    # -- process set-up ---------------------------------------------------- #

    def install(self) -> None:
        """Put the layer directories on sys.path."""
        if self._installed:
            return
        self._preexisting_modules = set(sys.modules)
        for d in reversed(self.layer_dirs):
            p = str(d)
            if p not in sys.path:
                sys.path.insert(0, p)
                self._added_paths.append(p)
        self._installed = True

    def uninstall(self) -> None:
        """Undo install() and forget the modules it loaded from function/layer code.

        Modules imported before install() (e.g. a test suite importing the layer) stay.
        """
        for p in self._added_paths:
            while p in sys.path:
                sys.path.remove(p)
        self._added_paths.clear()
        roots = [str(d) for d in self.layer_dirs] + [str(f.code_dir) for f in self.functions.values()]
        for name, module in list(sys.modules.items()):
            if name in self._preexisting_modules:
                continue
            file = getattr(module, "__file__", None) or ""
            if name.startswith(MODULE_PREFIX) or (file and any(file.startswith(r + "/") for r in roots)):
                sys.modules.pop(name, None)
        self._handlers.clear()
        self._installed = False

    # -- lookup ------------------------------------------------------------ #

    def lookup(self, name_or_arn: str) -> FunctionSpec | None:
        """Logical id, function name, full/partial ARN, optionally with a qualifier."""
        key = name_or_arn
        if key in self._aliases:
            return self.functions[self._aliases[key]]
        if key.startswith("arn:"):
            parts = key.split(":")
            key = parts[6] if len(parts) > 6 else key
        elif ":function:" in key:  # partial ARN 123456789012:function:Name[:qualifier]
            key = key.split(":function:", 1)[1].split(":")[0]
        else:
            key = key.split(":")[0]
        lid = self._aliases.get(key)
        return self.functions[lid] if lid else None

    def get(self, name_or_arn: str) -> FunctionSpec:
        spec = self.lookup(name_or_arn)
        if spec is None:
            raise FunctionNotFoundError(f"Function not found: {name_or_arn}")
        return spec

    # -- loading ----------------------------------------------------------- #

    def _load(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        path = spec.module_path
        if not path.is_file():
            raise TemplateError(f"{spec.logical_id}: handler file {path} not found")
        module_name = f"{MODULE_PREFIX}{spec.logical_id}"
        import_spec = importlib.util.spec_from_file_location(module_name, path)
        if import_spec is None or import_spec.loader is None:
            raise TemplateError(f"{spec.logical_id}: cannot load {path}")
        module: ModuleType = importlib.util.module_from_spec(import_spec)
        sys.modules[module_name] = module
        code_dir = str(spec.code_dir)
        sys.path.insert(0, code_dir)  # sibling imports, like LAMBDA_TASK_ROOT
        try:
            import_spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        finally:
            if code_dir in sys.path:
                sys.path.remove(code_dir)
        handler = getattr(module, spec.handler_attr, None)
        if not callable(handler):
            raise TemplateError(f"{spec.logical_id}: {spec.handler} is not a callable in {path}")
        return cast(Callable[[Any, Any], Any], handler)

    def handler(self, spec: FunctionSpec) -> tuple[Callable[[Any, Any], Any], bool]:
        fn = self._handlers.get(spec.logical_id)
        if fn is not None:
            return fn, False
        with self._lock:
            fn = self._handlers.get(spec.logical_id)
            if fn is not None:
                return fn, False
            fn = self._load(spec)
            self._handlers[spec.logical_id] = fn
            return fn, True

    # -- invocation -------------------------------------------------------- #

    def invoke(self, name_or_arn: str, event: Any, request_id: str | None = None) -> Any:
        """Invoke a function; the handler's exception propagates unchanged."""
        spec = self.get(name_or_arn)
        context = LambdaContext(spec, request_id)
        start = time.perf_counter()
        cold = False
        status = "ok"
        try:
            fn, cold = self.handler(spec)
            return fn(event, context)
        except BaseException as exc:
            status = f"error {type(exc).__name__}: {exc}"
            raise
        finally:
            ms = (time.perf_counter() - start) * 1000
            log.info("%s %.1f ms %s%s", spec.logical_id, ms, status, " (cold start)" if cold else "")
            if ms > spec.timeout * 1000:
                log.warning("%s ran %.0f ms, longer than its Timeout of %ss", spec.logical_id, ms, spec.timeout)

    def invoke_payload(self, name_or_arn: str, payload: bytes | str | None) -> InvokeResult:
        """JSON in, JSON out, errors in the Lambda error shape (used by the servers)."""
        spec = self.get(name_or_arn)
        request_id = str(uuid.uuid4())
        start = time.perf_counter()
        raw = payload.decode() if isinstance(payload, bytes) else payload
        error = True
        try:
            event = json.loads(raw) if raw and raw.strip() else {}
            result = self.invoke(spec.logical_id, event, request_id)
        except Exception as exc:  # noqa: BLE001 - converted to the Lambda error shape
            body = json.dumps(error_payload(exc, request_id)).encode()
        else:
            try:
                body = json.dumps(result).encode()
                error = False
            except (TypeError, ValueError) as exc:
                body = json.dumps(
                    {
                        "errorMessage": f"Unable to marshal response: {exc}",
                        "errorType": "Runtime.MarshalError",
                        "requestId": request_id,
                        "stackTrace": [],
                    }
                ).encode()
        return InvokeResult(body, error, request_id, (time.perf_counter() - start) * 1000)
