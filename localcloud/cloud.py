"""LocalCloud: the whole hub from the SAM template; each function in its own worker processes."""

from __future__ import annotations

import json
import logging
import os
import shlex
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from localcloud import aws as aws_backend
from localcloud import demo, demo_activity
from localcloud.api import ApiGateway, ApiRoute, collect_routes
from localcloud.bus_rules import RulePoller, collect_rules, wire_rule
from localcloud.lambda_api import LambdaInvokeApi
from localcloud.runtime import DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_WORKERS, FunctionRuntime, local_overrides
from localcloud.sandboxes import SandboxServer, all_sandboxes
from localcloud.schedules import Scheduler, collect_schedules
from localcloud.servers import ServerThread, free_port
from localcloud.sqs_poller import SqsPoller, SqsPollers, collect_sources
from localcloud.template import FunctionSpec, Template, to_env_string

log = logging.getLogger("localcloud")

_active: LocalCloud | None = None


class LocalCloud:
    """Start/stop the local hub. Ports set to 0 are picked free at start().

    ``aws=False`` skips moto, resource creation and demo seeding (functions then talk to
    whatever already listens on ``aws_port``, e.g. a running ``make dev``).
    ``env`` sets variables in every function after the template's (like ``sam local
    --env-vars``); ``max_workers`` caps the warm workers per function; workers idle for
    ``idle_timeout`` seconds are stopped (None: never). ``demo_data`` (``make dev`` turns it on,
    tests leave it off unless they want it): once everything runs, deliver signed webhooks for
    the demo org, run a health check and one WhatsApp send (localcloud.demo_activity), so the
    console shows the demo org's data.
    """

    def __init__(
        self,
        template_path: str | Path = "template.yaml",
        *,
        host: str = "127.0.0.1",
        api_port: int = 3000,
        lambda_port: int = 3001,
        aws_port: int = 5000,
        sandbox_port: int = 4010,
        schedule_speed: float = 1.0,
        schedules: bool = True,
        retry_delay: int | None = None,
        max_wait: int | None = None,
        parameter_overrides: dict[str, Any] | None = None,
        serve_api: bool = True,
        serve_lambda: bool = True,
        sqs_pollers: bool = True,
        sandboxes: bool = True,
        aws: bool = True,
        env: Mapping[str, str] | None = None,
        max_workers: int = DEFAULT_MAX_WORKERS,
        idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
        demo_data: bool = False,
    ) -> None:
        self.template_path = Path(template_path)
        self.host = host
        self.api_port = api_port
        self.lambda_port = lambda_port
        self.aws_port = aws_port
        self.sandbox_port = sandbox_port
        self.schedule_speed = schedule_speed
        self.enable_schedules = schedules
        self.retry_delay = retry_delay
        self.max_wait = max_wait
        self.parameter_overrides = parameter_overrides
        self.serve_api = serve_api
        self.serve_lambda = serve_lambda
        self.enable_sqs = sqs_pollers
        self.enable_sandboxes = sandboxes
        self.enable_aws = aws
        self.env = dict(env or {})
        self.max_workers = max_workers
        self.idle_timeout = idle_timeout
        self.demo_data = demo_data
        # What the demo activity did (demo_data=True), for the banner and tests.
        self.demo_activity: demo_activity.DemoActivity | None = None

        self.template: Template | None = None
        self.functions: list[FunctionSpec] = []
        self.routes: list[ApiRoute] = []
        self.runtime: FunctionRuntime | None = None
        self.sandbox_app: SandboxServer | None = None
        self.secret_ids: list[str] = []
        # The console's one-time login token (printed in the banner; tests log in with it).
        self.console_token: str | None = None
        self._moto: aws_backend.MotoServer | None = None
        self._servers: list[ServerThread] = []
        self._pollers: SqsPollers | None = None
        self._scheduler: Scheduler | None = None
        self._saved_environ: dict[str, str] | None = None
        self._started = False

    # -- URLs -------------------------------------------------------------- #

    def _url(self, port: int) -> str:
        return f"http://{self.host}:{port}"

    @property
    def api_url(self) -> str:
        return self._url(self.api_port)

    @property
    def lambda_url(self) -> str:
        return self._url(self.lambda_port)

    @property
    def aws_url(self) -> str:
        return self._url(self.aws_port)

    @property
    def sandbox_url(self) -> str:
        return self._url(self.sandbox_port)

    # -- lifecycle --------------------------------------------------------- #

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> LocalCloud:
        global _active
        if _active is not None:
            raise RuntimeError("another LocalCloud is running in this process (moto state is process-wide)")
        for attr in ("api_port", "lambda_port", "aws_port", "sandbox_port"):
            if getattr(self, attr) == 0:
                setattr(self, attr, free_port(self.host))
        _active = self
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self._started = True
        return self

    def _start(self) -> None:
        template = Template(self.template_path, self.parameter_overrides, aws_endpoint=self.aws_url)
        self.template = template
        self.functions = template.functions()
        # Every function gets its own environment in its workers (runtime.function_environment),
        # so two functions may give one variable different values, as on AWS.
        overrides = local_overrides(self.aws_url)
        no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"]))
        overrides["NO_PROXY"] = overrides["no_proxy"] = no_proxy
        overrides.update(self.env)
        # Status callbacks point at the local API, and Twilio-style signatures cover this URL.
        defaults = {
            "PUBLIC_API_URL": f"http://{self.host}:{self.api_port}",
            # Org secrets point at the sandboxes: IntegrationConnect accepts that private base_url.
            "PROVIDER_PRIVATE_URL_PREFIXES": f"{self.sandbox_url}/",
        }
        self.runtime = FunctionRuntime(
            self.functions,
            template.layer_dirs(),
            overrides=overrides,
            defaults=defaults,
            max_workers=self.max_workers,
            idle_timeout=self.idle_timeout,
        )
        # This process gets Globals' environment only, for scripts that call the layer in-process
        # (bench/); functions never run here.
        glob_env = ((template.globals_function.get("Environment") or {}).get("Variables")) or {}
        host_env = {str(k): to_env_string(v) for k, v in template.resolve(glob_env).items()}
        for key, value in defaults.items():
            host_env[key] = host_env.get(key) or value
        host_env.update(overrides)
        self._saved_environ = dict(os.environ)
        os.environ.update(host_env)
        self.routes = collect_routes(self.functions)

        if self.enable_aws:
            self._moto = aws_backend.MotoServer(self.host, self.aws_port)
            self._moto.start()
            aws_backend.install_lambda_bridge(self.runtime)
            aws_backend.ResourceCreator(template, self.aws_url, max_wait=self.max_wait).create_all()

        if self.enable_sandboxes:
            self.sandbox_app = SandboxServer(all_sandboxes())
            self._serve("sandboxes", self.sandbox_app, "sandbox_port")
        if self.enable_aws:
            self.secret_ids = aws_backend.seed_demo(
                template, self.aws_url, self.sandbox_url, api_url=f"http://{self.host}:{self.api_port}"
            )
            self.console_token = aws_backend.create_console_login_token(template)

        if self.serve_api:
            self._serve("api", ApiGateway(self.runtime, self.routes), "api_port")
        if self.serve_lambda:
            self._serve("lambda", LambdaInvokeApi(self.runtime), "lambda_port")

        if self.enable_sqs:
            runtime = self.runtime
            pollers = [
                SqsPoller(src, runtime, lambda: aws_backend.aws_client("sqs", self.aws_url), self.retry_delay)
                for src in collect_sources(template, self.functions)
            ]
            if self.enable_aws:
                # EventBridgeRule events: moto's bus delivers to a queue per rule (localcloud.bus_rules).
                sqs = aws_backend.aws_client("sqs", self.aws_url)
                bus = aws_backend.aws_client("events", self.aws_url)
                pollers += [
                    RulePoller(
                        wire_rule(rule, template, sqs, bus),
                        runtime,
                        lambda: aws_backend.aws_client("sqs", self.aws_url),
                        self.retry_delay,
                    )
                    for rule in collect_rules(self.functions)
                ]
            self._pollers = SqsPollers(pollers)
            self._pollers.start()
        if self.enable_schedules:
            specs = collect_schedules(self.functions)
            self._scheduler = Scheduler(self.runtime, specs, self.schedule_speed)
            self._scheduler.start()
        # The console's data: only for a template that has the console (not a test fixture's).
        has_console = "ConsoleApi" in template.resources
        if self.demo_data and has_console and self.enable_aws and self.enable_sandboxes and self.serve_api:
            self.demo_activity = demo_activity.run(self)

    def _serve(self, name: str, app: Any, port_attr: str) -> None:
        server = ServerThread(name, app, self.host, getattr(self, port_attr))
        server.start()
        setattr(self, port_attr, server.port)
        self._servers.append(server)

    def stop(self) -> None:
        global _active
        # Signal every background loop first, then shut servers down in parallel.
        if self._scheduler is not None:
            self._scheduler.signal_stop()
        if self._pollers is not None:
            self._pollers.signal_stop()
        stoppers: list[threading.Thread] = []
        for server in self._servers:
            stoppers.append(threading.Thread(target=self._stop_quietly, args=(server.name, server.stop)))
        if self._moto is not None:
            aws_backend.install_lambda_bridge(None)
            stoppers.append(threading.Thread(target=self._stop_quietly, args=("moto", self._moto.stop)))
        for t in stoppers:
            t.start()
        for t in stoppers:
            t.join()
        self._servers.clear()
        self._moto = None
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None
        if self._pollers is not None:
            self._pollers.join()
            self._pollers = None
        if self.runtime is not None:
            self.runtime.close()
        if self._saved_environ is not None:
            os.environ.clear()
            os.environ.update(self._saved_environ)
            self._saved_environ = None
        self._started = False
        if _active is self:
            _active = None

    @staticmethod
    def _stop_quietly(name: str, stop: Any) -> None:
        try:
            stop()
        except Exception:
            log.exception("stopping %s failed", name)

    # -- conveniences ------------------------------------------------------ #

    def invoke(self, name: str, event: Any = None) -> Any:
        """Invoke a function in its worker (raises runtime.FunctionError when it fails)."""
        assert self.runtime is not None, "call start() first"
        return self.runtime.invoke(name, {} if event is None else event)

    def client(self, service: str) -> Any:
        """A boto3 client for the local moto."""
        return aws_backend.aws_client(service, self.aws_url)

    # -- banner ------------------------------------------------------------ #

    def banner(self) -> str:
        assert self.template is not None
        lines = ["", "Local cloud is up (Ctrl-C to stop)", ""]
        if self.serve_api:
            lines.append(f"  API Gateway   {self.api_url}")
            for r in sorted(self.routes, key=lambda r: (r.path, r.method)):
                lines.append(f"      {r.method:<7} {self.api_url}{r.path}  -> {r.function.logical_id}")
        if self.serve_lambda:
            lines.append(f"  Lambda invoke {self.lambda_url}")
            for fn in self.functions:
                lines.append(f"      {fn.logical_id}")
        if self.enable_aws:
            lines.append(f"  AWS (moto)    {self.aws_url}    (AWS_ENDPOINT_URL={self.aws_url})")
        if self.sandbox_app is not None:
            lines.append(f"  Sandboxes     {self.sandbox_url}")
            for provider in self.sandbox_app.sandboxes:
                lines.append(f"      {self.sandbox_url}/{provider}")
            lines.append(
                f"      requests log: {self.sandbox_url}/__sandbox/requests   faults: PUT /__sandbox/faults/<provider>"
            )
        if self.serve_api and self.console_token:
            lines.append(f"  Console       {self.api_url}/console   one-time login token: {self.console_token}")
        if self.secret_ids:
            lines.append(f"  Demo org      {demo.DEMO_ORG_ID!r}: secrets {', '.join(self.secret_ids)}")
        if self.demo_activity is not None:
            lines.append(f"  Demo data     {self.demo_activity.summary()}")
        lines += ["", "Try:", *self._examples(), ""]
        return "\n".join(lines)

    @staticmethod
    def _python(root: Path) -> str:
        """How to call this interpreter from the template's directory (the venv's python if inside it)."""
        exe = Path(sys.executable)
        try:
            return str(exe.relative_to(root))
        except ValueError:
            return "python"

    def _examples(self) -> list[str]:
        """A curl for the first POST route with a sample in events/ (else the first POST route)
        and a boto3 invoke for the first directly invoked function (with its sample if any)."""
        out: list[str] = []
        root = self.template.dir if self.template else Path(".")
        python = self._python(root)
        samples = _samples(root / "events")
        if self.serve_api:
            posts = [r for r in self.routes if r.method in ("POST", "ANY")]
            with_sample = [(r, e) for r in posts for e in samples.values() if _is_sample_of(e, r)]
            if with_sample:
                route, (event_file, event) = with_sample[0][0], with_sample[0][1]
                out.append(self._webhook_curl(route, python, event_file.relative_to(root), event))
            elif posts:
                out.append(self._webhook_curl(posts[0], python, None, {}))
        invoked = [f for f in self.functions if not f.events] or self.functions
        if invoked and self.serve_lambda:
            key = {name.replace("_", ""): name for name in samples}
            named = [(f, key[f.logical_id.lower()]) for f in invoked if f.logical_id.lower() in key]
            fn, sample = named[0] if named else (invoked[0], None)
            payload = "b'{}'"
            if sample is not None:
                payload = f"open({str(samples[sample][0].relative_to(root))!r},'rb').read()"
            out.append(
                f"  {python} -c \"import boto3; c=boto3.client('lambda',endpoint_url='"
                f"{self.lambda_url}',region_name='us-east-1',aws_access_key_id='x',aws_secret_access_key='x'); "
                f"r=c.invoke(FunctionName='{fn.logical_id}',Payload={payload}); "
                "print(r.get('FunctionError'), r['Payload'].read().decode())\""
            )
        return out

    def _webhook_curl(self, route: ApiRoute, python: str, event_file: Path | None, event: dict[str, Any]) -> str:
        path = str(event.get("path") or route.path)
        for name in ("org_id", "orgId", "org", "organization_id", "tenant_id"):
            path = path.replace("{" + name + "}", demo.DEMO_ORG_ID)
        query = urlencode(event.get("queryStringParameters") or {})
        headers = [
            f"-H {shlex.quote(f'{k}: {v}')} "
            for k, v in (event.get("headers") or {}).items()
            if k.lower() not in _NOT_REPLAYED_HEADERS and not k.lower().startswith("x-forwarded-")
        ]
        if not any(h.lower().startswith("-h 'content-type:") for h in headers):
            headers.insert(0, "-H 'content-type: application/json' ")
        body_cmd = "echo '{}'"
        if event_file is not None and isinstance(event.get("body"), str):
            body_cmd = f"{python} -c \"import json,sys;sys.stdout.write(json.load(open('{event_file}'))['body'])\""
        return (
            f"  {body_cmd} | \\\n    curl -sS -X POST {''.join(headers)}"
            f"--data-binary @- '{self.api_url}{path}{'?' + query if query else ''}'"
        )


# Headers of a sample event that describe the original connection, not the request.
_NOT_REPLAYED_HEADERS = {"host", "content-length", "user-agent", "connection", "accept-encoding", "via"}


def _samples(directory: Path) -> dict[str, tuple[Path, dict[str, Any]]]:
    """events/*.json by file stem (JSON objects only)."""
    out: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            event = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            continue
        if isinstance(event, dict):
            out[path.stem] = (path, event)
    return out


def _is_sample_of(sample: tuple[Path, dict[str, Any]], route: ApiRoute) -> bool:
    event = sample[1]
    method = str(event.get("httpMethod", "")).upper()
    return event.get("resource") == route.path and (route.method == "ANY" or method == route.method)


def running() -> LocalCloud | None:
    """The LocalCloud started in this process, if any."""
    return _active


__all__ = ["LocalCloud", "running"]
