"""Lambda runtime: each function runs in its own warm worker processes, like Lambda containers.

A worker (``localcloud/worker.py``) is started on a function's first invocation (a real cold
start), reused for later ones, and a second one is started when every worker of that function
is busy, up to ``max_workers`` per function (then callers wait for a free one). Idle workers are
stopped after ``idle_timeout`` seconds. A worker gets exactly its function's environment (the
template's, with ``Globals``, plus the local overrides), so module globals, caches and logger
keys never cross functions. Its stdout/stderr are logged as ``localcloud.fn.<LogicalId>``.
An invocation that outlives the function's ``Timeout`` gets Lambda's ``Task timed out`` error
and its worker is killed; the next invocation starts a new one.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from localcloud.template import FunctionSpec

log = logging.getLogger("localcloud.runtime")

WORKER_SCRIPT = str(Path(__file__).resolve().parent / "worker.py")
DEFAULT_MAX_WORKERS = 3
DEFAULT_IDLE_TIMEOUT = 600.0
# Lambda gives the init phase 10 s; a cold import on a busy 2-core laptop can take several.
DEFAULT_INIT_TIMEOUT = 30.0

# Machine settings a worker keeps from the engine's environment (not function configuration).
PASSTHROUGH_ENV = (
    "PATH",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "SYSTEMROOT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
)


class FunctionNotFoundError(KeyError):
    """No function with that logical id, name or ARN."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "function not found"


class FunctionError(Exception):
    """The function failed; ``payload`` is Lambda's error body (errorMessage, errorType, stackTrace)."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(str(payload.get("errorMessage", "")))
        self.payload = payload

    @property
    def error_type(self) -> str:
        return str(self.payload.get("errorType", "Unhandled"))


def describe_failure(exc: BaseException) -> str:
    """One line for the engine's log (the function's own trace is in its worker's log)."""
    return f"{exc.error_type}: {exc}" if isinstance(exc, FunctionError) else repr(exc)


def local_overrides(aws_endpoint: str) -> dict[str, str]:
    """Environment forced on every local function (after the template's values)."""
    return {
        "AWS_ENDPOINT_URL": aws_endpoint,
        "STORAGE_ENDPOINT_URL": aws_endpoint,
        # The secondary storage backend: a bucket on the same moto (localcloud.aws).
        "STORAGE_SECONDARY_ENDPOINT_URL": aws_endpoint,
        "STORAGE_SECONDARY_BUCKET": "hub-storage-secondary",
        "STORAGE_SECONDARY_MODE": "s3-compatible",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
        # The console's one-time token login instead of Cognito (hub.console.auth): set here only,
        # never in template.yaml.
        "CONSOLE_LOCAL_LOGIN": "1",
    }


def function_environment(
    spec: FunctionSpec,
    overrides: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
    host: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """What a worker's ``os.environ`` is: machine settings (``PASSTHROUGH_ENV``), the function's
    variables (``defaults`` fill the empty ones), the overrides, and the variables Lambda sets
    itself. Nothing from any other function, nothing else from this process."""
    host = os.environ if host is None else host
    env = {key: host[key] for key in PASSTHROUGH_ENV if key in host}
    env.update(spec.environment)
    for key, value in (defaults or {}).items():
        env[key] = env.get(key) or value
    env.update(overrides or {})
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "_HANDLER": spec.handler,
            "TZ": ":UTC",
        }
    )
    return env


def error_payload(exc: BaseException, request_id: str = "") -> dict[str, Any]:
    """Lambda's error body for ``exc`` (the function's own one for a :class:`FunctionError`)."""
    if isinstance(exc, FunctionError):
        return exc.payload
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
    }


def _runtime_error(request_id: str, error_type: str, message: str) -> dict[str, Any]:
    return {"errorMessage": f"RequestId: {request_id} Error: {message}", "errorType": error_type}


@dataclass
class InvokeResult:
    payload: bytes
    error: bool
    request_id: str
    duration_ms: float


class WorkerDied(Exception):
    """The worker process ended without answering."""


class Worker:
    """One warm process running one function; invoked by one caller at a time."""

    def __init__(self, spec: FunctionSpec, layer_dirs: list[Path], env: dict[str, str]) -> None:
        self.spec = spec
        request_read, request_write = os.pipe()
        response_read, response_write = os.pipe()
        config = {
            "function_name": spec.name,
            "function_arn": spec.arn,
            "memory_size": spec.memory_size,
            "handler": spec.handler,
            "code_dir": str(spec.code_dir),
            "layer_dirs": [str(d) for d in layer_dirs],
            "request_fd": request_read,
            "response_fd": response_write,
        }
        try:
            self.process = subprocess.Popen(  # noqa: S603 - this interpreter, our script
                [sys.executable, "-P", WORKER_SCRIPT, json.dumps(config)],
                env=env,
                cwd=spec.code_dir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(request_read, response_write),
            )
        except BaseException:
            os.close(request_write)
            os.close(response_read)
            raise
        finally:  # the worker's ends of the pipes are the worker's alone
            os.close(request_read)
            os.close(response_write)
        self.pid = self.process.pid
        self._requests: IO[bytes] | None = os.fdopen(request_write, "wb")
        self._responses: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self.last_used = time.monotonic()
        self.dead = False
        fn_log = logging.getLogger(f"localcloud.fn.{spec.logical_id}")
        assert self.process.stdout is not None and self.process.stderr is not None
        self._threads = [
            threading.Thread(target=target, args=args, name=f"worker-{spec.logical_id}-{self.pid}-{name}", daemon=True)
            for name, target, args in (
                ("responses", self._read_responses, (os.fdopen(response_read, "rb"),)),
                ("stdout", self._forward, (self.process.stdout, fn_log)),
                ("stderr", self._forward, (self.process.stderr, fn_log)),
            )
        ]
        for thread in self._threads:
            thread.start()

    # -- threads ------------------------------------------------------------ #

    def _read_responses(self, stream: IO[bytes]) -> None:
        with stream:
            for line in stream:
                try:
                    self._responses.put(json.loads(line))
                except ValueError:
                    log.error("%s: unreadable answer from worker %d: %r", self.spec.logical_id, self.pid, line[:200])
        self._responses.put(None)  # end of file: the process is gone

    @staticmethod
    def _forward(stream: IO[bytes], fn_log: logging.Logger) -> None:
        with stream:
            for line in stream:
                fn_log.info("%s", line.decode("utf-8", errors="replace").rstrip("\n"))

    # -- use ---------------------------------------------------------------- #

    def _next(self, timeout: float) -> dict[str, Any]:
        try:
            message = self._responses.get(timeout=max(0.0, timeout))
        except queue.Empty:
            raise TimeoutError from None
        if message is None:
            self.dead = True
            raise WorkerDied(self._exit_status())
        return message

    def _exit_status(self) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "no answer"
        return f"signal {-code}" if code < 0 else f"exit status {code}"

    def wait_ready(self, timeout: float) -> dict[str, Any] | None:
        """None when initialised; Lambda's error body when init failed (the worker then ends)."""
        message = self._next(timeout)
        if message.get("type") == "init_error":
            self.dead = True
            return dict(json.loads(message["payload"]))
        return None

    def invoke(self, request_id: str, payload: str, timeout: float) -> tuple[bool, bytes]:
        """(error, body); raises TimeoutError (worker left running: kill it) or WorkerDied."""
        requests = self._requests
        if requests is None:
            raise WorkerDied("stopped")
        deadline_ms = int((time.time() + timeout) * 1000)
        line = json.dumps({"request_id": request_id, "deadline_ms": deadline_ms, "payload": payload})
        try:
            requests.write(line.encode() + b"\n")
            requests.flush()
        except (OSError, ValueError) as exc:  # ValueError: closed by close() meanwhile
            self.dead = True
            raise WorkerDied(str(exc)) from exc
        end = time.monotonic() + timeout
        while True:
            message = self._next(end - time.monotonic())
            if message.get("request_id") == request_id:
                self.last_used = time.monotonic()
                return bool(message["error"]), str(message["payload"]).encode()

    def kill(self) -> None:
        self.dead = True
        self.process.kill()
        self.stop(0)

    def close_requests(self) -> None:
        """End of file for the worker: it exits at once, even mid-invocation."""
        self.dead = True
        requests, self._requests = self._requests, None
        if requests is not None:
            try:
                requests.close()
            except OSError:
                pass

    def stop(self, grace: float = 2.0) -> None:
        """Close its request pipe, wait for it to exit, kill it if it lingers."""
        self.close_requests()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for thread in self._threads:  # its last log lines, before the engine moves on
            thread.join(timeout=2)


class _Pool:
    """The workers of one function: idle ones reused most-recent first, at most ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.idle: list[Worker] = []
        self.count = 0  # live workers, busy or idle (or being started)
        self.waiting = 0  # callers waiting for a worker (the limit is reached)
        self.closed = False
        self.cond = threading.Condition()

    def acquire(self) -> Worker | None:
        """An idle worker, or None when the caller may start a new one."""
        with self.cond:
            while True:
                if self.closed:
                    raise RuntimeError("the local cloud is stopping")
                while self.idle:
                    worker = self.idle.pop()
                    if not worker.dead and worker.process.poll() is None:
                        return worker
                    self.count -= 1
                if self.count < self.limit:
                    self.count += 1
                    return None
                self.waiting += 1
                try:
                    self.cond.wait()
                finally:
                    self.waiting -= 1

    def release(self, worker: Worker | None) -> None:
        """Give a worker back (None or a dead one frees its slot)."""
        with self.cond:
            if worker is not None and not worker.dead and not self.closed:
                self.idle.append(worker)
            else:
                self.count -= 1
            self.cond.notify()

    def take_idle(self, older_than: float | None = None) -> list[Worker]:
        """Remove and return idle workers (all, or those unused since ``older_than``)."""
        with self.cond:
            keep: list[Worker] = []
            taken: list[Worker] = []
            for worker in self.idle:
                (taken if older_than is None or worker.last_used < older_than else keep).append(worker)
            self.idle = keep
            self.count -= len(taken)
            self.cond.notify_all()
            return taken


class FunctionRuntime:
    """Invokes template functions in warm worker processes; thread-safe."""

    def __init__(
        self,
        functions: Iterable[FunctionSpec],
        layer_dirs: Iterable[Path] = (),
        *,
        overrides: Mapping[str, str] | None = None,
        defaults: Mapping[str, str] | None = None,
        max_workers: int = DEFAULT_MAX_WORKERS,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        init_timeout: float = DEFAULT_INIT_TIMEOUT,
    ) -> None:
        self.functions: dict[str, FunctionSpec] = {f.logical_id: f for f in functions}
        self.layer_dirs = [Path(p) for p in layer_dirs]
        self.overrides = dict(overrides or {})
        self.defaults = dict(defaults or {})
        self.max_workers = max_workers
        self.idle_timeout = idle_timeout
        self.init_timeout = init_timeout
        self._aliases: dict[str, str] = {}
        for f in self.functions.values():
            self._aliases[f.logical_id] = f.logical_id
            self._aliases[f.name] = f.logical_id
            self._aliases[f.arn] = f.logical_id
        self._pools = {lid: _Pool(max_workers) for lid in self.functions}
        self._busy: set[Worker] = set()
        self._busy_lock = threading.Lock()
        self._closed = threading.Event()
        self._reaper: threading.Thread | None = None
        if idle_timeout is not None:
            self._reaper = threading.Thread(target=self._reap, name="worker-reaper", daemon=True)
            self._reaper.start()

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

    # -- workers ----------------------------------------------------------- #

    def workers(self, name_or_arn: str) -> list[int]:
        """Process ids of the function's live workers (busy and idle)."""
        spec = self.get(name_or_arn)
        with self._busy_lock:
            busy = [w for w in self._busy if w.spec is spec]
        pool = self._pools[spec.logical_id]
        with pool.cond:
            idle = list(pool.idle)
        return sorted(w.pid for w in busy + idle if not w.dead)

    def waiting(self, name_or_arn: str) -> int:
        """Callers waiting for one of the function's workers (all ``max_workers`` are busy)."""
        pool = self._pools[self.get(name_or_arn).logical_id]
        with pool.cond:
            return pool.waiting

    def _start_worker(self, spec: FunctionSpec, request_id: str) -> tuple[Worker | None, bytes | None]:
        """A new initialised worker, or (None, error body) when the init failed or timed out."""
        started = time.perf_counter()
        worker = Worker(spec, self.layer_dirs, function_environment(spec, self.overrides, self.defaults))
        try:
            init_error = worker.wait_ready(self.init_timeout)
        except TimeoutError:
            worker.kill()
            message = f"Init timed out after {self.init_timeout:.2f} seconds"
            return None, json.dumps(_runtime_error(request_id, "Runtime.InitTimeout", message)).encode()
        except WorkerDied as exc:
            return None, json.dumps(_runtime_error(request_id, "Runtime.ExitError", f"Runtime exited: {exc}")).encode()
        if init_error is not None:
            worker.stop()
            init_error["requestId"] = request_id
            return None, json.dumps(init_error).encode()
        log.info(
            "%s cold start: worker %d ready in %.0f ms",
            spec.logical_id,
            worker.pid,
            (time.perf_counter() - started) * 1000,
        )
        return worker, None

    def _reap(self) -> None:
        assert self.idle_timeout is not None
        interval = max(1.0, min(60.0, self.idle_timeout / 2))
        while not self._closed.wait(interval):
            cutoff = time.monotonic() - self.idle_timeout
            for lid, pool in self._pools.items():
                for worker in pool.take_idle(older_than=cutoff):
                    log.info("%s: worker %d idle for %.0f s, stopped", lid, worker.pid, self.idle_timeout)
                    worker.stop()

    def close(self) -> None:
        """Stop every worker (in-flight invocations end with Runtime.ExitError)."""
        self._closed.set()
        workers: list[Worker] = []
        for pool in self._pools.values():
            with pool.cond:
                pool.closed = True
                pool.cond.notify_all()
            workers += pool.take_idle()
        with self._busy_lock:
            workers += list(self._busy)
        for worker in workers:  # every pipe first: the workers exit in parallel
            worker.close_requests()
        for worker in workers:
            worker.stop()

    # -- invocation -------------------------------------------------------- #

    def _invoke_raw(self, spec: FunctionSpec, payload: str, request_id: str) -> tuple[bool, bytes]:
        pool = self._pools[spec.logical_id]
        start = time.perf_counter()
        worker = pool.acquire()
        cold = worker is None
        if worker is None:
            try:
                worker, init_error = self._start_worker(spec, request_id)
            except BaseException:
                pool.release(None)
                raise
            if worker is None:
                pool.release(None)
                assert init_error is not None
                log.info("%s %.1f ms init error (cold start)", spec.logical_id, (time.perf_counter() - start) * 1000)
                return True, init_error
        with self._busy_lock:
            self._busy.add(worker)
        status = "ok"
        try:
            error, body = worker.invoke(request_id, payload, spec.timeout)
            if error:
                status = "error " + str(json.loads(body).get("errorType", ""))
            return error, body
        except TimeoutError:
            worker.kill()
            message = f"Task timed out after {spec.timeout:.2f} seconds"
            status = message
            log.warning("%s %s %s (worker %d killed)", spec.logical_id, request_id, message, worker.pid)
            return True, json.dumps(_runtime_error(request_id, "Sandbox.Timedout", message)).encode()
        except WorkerDied as exc:
            message = f"Runtime exited with error: {exc}"
            status = message
            return True, json.dumps(_runtime_error(request_id, "Runtime.ExitError", message)).encode()
        finally:
            with self._busy_lock:
                self._busy.discard(worker)
            pool.release(worker)
            ms = (time.perf_counter() - start) * 1000
            log.info(
                "%s %.1f ms %s (worker %d%s)", spec.logical_id, ms, status, worker.pid, ", cold start" if cold else ""
            )

    def invoke(self, name_or_arn: str, event: Any, request_id: str | None = None) -> Any:
        """Invoke a function with a JSON-able event; raises :class:`FunctionError` if it fails."""
        spec = self.get(name_or_arn)
        error, body = self._invoke_raw(spec, json.dumps(event), request_id or str(uuid.uuid4()))
        answer = json.loads(body)
        if error:
            raise FunctionError(answer)
        return answer

    def invoke_payload(self, name_or_arn: str, payload: bytes | str | None) -> InvokeResult:
        """JSON in, JSON out, errors in the Lambda error shape (used by the servers)."""
        spec = self.get(name_or_arn)
        request_id = str(uuid.uuid4())
        start = time.perf_counter()
        raw = payload.decode() if isinstance(payload, bytes) else (payload or "")
        error, body = self._invoke_raw(spec, raw, request_id)
        return InvokeResult(body, error, request_id, (time.perf_counter() - start) * 1000)
