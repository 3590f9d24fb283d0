"""CLI: ``python -m localcloud dev`` / ``python -m localcloud invoke <LogicalId>``."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
from typing import Any

from localcloud.cloud import LocalCloud
from localcloud.runtime import DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_WORKERS, error_payload
from localcloud.servers import port_is_free
from localcloud.template import TemplateError


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname).1s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("werkzeug", "botocore", "boto3", "urllib3", "moto", "s3transfer", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run the whole hub locally until Ctrl-C")
    dev.add_argument("--template", default="template.yaml")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--api-port", type=int, default=3000)
    dev.add_argument("--lambda-port", type=int, default=3001)
    dev.add_argument("--aws-port", type=int, default=5000)
    dev.add_argument("--sandbox-port", type=int, default=4010)
    dev.add_argument("--schedule-speed", type=float, default=1.0, help="divide schedule intervals by N")
    dev.add_argument("--no-schedules", action="store_true", help="don't fire Schedule events")
    dev.add_argument(
        "--retry-delay",
        type=int,
        default=None,
        metavar="SECONDS",
        help=(
            "make failed SQS messages visible again after SECONDS, instead of the delay the consumer"
            " set (its backoff, a rate limit's retry_after) or the queue's visibility timeout"
        ),
    )
    dev.add_argument(
        "--max-wait",
        type=int,
        default=None,
        metavar="SECONDS",
        help=(
            "cap the fixed waits of the state machines (Wait states' Seconds, Retry IntervalSeconds) at"
            " SECONDS: moto runs them in real time (an NFS-e poll waits 10 s, a retry 60 s)"
        ),
    )
    dev.add_argument(
        "--parameter", action="append", default=[], metavar="KEY=VALUE", help="template parameter override"
    )
    _env_argument(dev)
    dev.add_argument(
        "--max-workers",
        type=int,
        default=DEFAULT_MAX_WORKERS,
        metavar="N",
        help=f"warm worker processes per function at most (default {DEFAULT_MAX_WORKERS}); more callers wait",
    )
    dev.add_argument(
        "--idle-timeout",
        type=float,
        default=DEFAULT_IDLE_TIMEOUT,
        metavar="SECONDS",
        help=f"stop a worker unused for SECONDS (default {DEFAULT_IDLE_TIMEOUT:.0f}; 0: never)",
    )
    dev.add_argument(
        "--no-demo-data",
        action="store_true",
        help="start without the demo activity (signed webhooks, a health check, a WhatsApp send for the console)",
    )
    dev.add_argument("-v", "--verbose", action="store_true")

    inv = sub.add_parser("invoke", help="invoke one function once, like `sam local invoke`")
    inv.add_argument("function", help="logical id (or function name)")
    inv.add_argument("--event", "-e", help="event JSON file ('-' for stdin); default {}")
    inv.add_argument("--template", default="template.yaml")
    inv.add_argument(
        "--no-aws",
        action="store_true",
        help="don't start moto/sandboxes: use what listens on :5000/:4010 (e.g. a running `make dev`)",
    )
    inv.add_argument("--parameter", action="append", default=[], metavar="KEY=VALUE")
    _env_argument(inv)
    inv.add_argument("-v", "--verbose", action="store_true")
    return parser


def _env_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment variable set in every function, after the template's (repeatable)",
    )


def _overrides(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--parameter/--env expects KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


# `make dev` reports errors to the Sentry sandbox (localcloud/sandboxes/sentry.py seeds the hub's
# secret _apps/sentry with a DSN pointing at it); `--parameter SentryDsnSecretName=` turns it off.
DEV_PARAMETERS = {"SentryDsnSecretName": "sentry"}


def cmd_dev(args: argparse.Namespace) -> int:
    cloud = LocalCloud(
        args.template,
        host=args.host,
        api_port=args.api_port,
        lambda_port=args.lambda_port,
        aws_port=args.aws_port,
        sandbox_port=args.sandbox_port,
        schedule_speed=args.schedule_speed,
        schedules=not args.no_schedules,
        retry_delay=args.retry_delay,
        max_wait=args.max_wait,
        parameter_overrides={**DEV_PARAMETERS, **_overrides(args.parameter)},
        env={k: str(v) for k, v in _overrides(args.env).items()},
        max_workers=args.max_workers,
        idle_timeout=args.idle_timeout or None,
        demo_data=not args.no_demo_data,
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        cloud.start()
    except (TemplateError, OSError) as exc:
        logging.getLogger("localcloud").error("cannot start: %s", exc)
        return 1
    print(cloud.banner(), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        logging.getLogger("localcloud").info("stopping...")
        cloud.stop()
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    if args.event in (None, ""):
        event: Any = {}
    elif args.event == "-":
        event = json.load(sys.stdin)
    else:
        with open(args.event, encoding="utf-8") as fh:
            event = json.load(fh)
    cloud = LocalCloud(
        args.template,
        aws_port=5000 if args.no_aws or port_is_free(5000) else 0,
        sandbox_port=4010 if args.no_aws or port_is_free(4010) else 0,
        serve_api=False,
        serve_lambda=False,
        sqs_pollers=False,
        schedules=False,
        sandboxes=not args.no_aws,
        aws=not args.no_aws,
        parameter_overrides=_overrides(args.parameter),
        env={k: str(v) for k, v in _overrides(args.env).items()},
        idle_timeout=None,
    )
    out = sys.stdout
    code = 0
    # Function output (print/logging) goes to stderr; stdout carries only the result.
    with contextlib.redirect_stdout(sys.stderr):
        try:
            cloud.start()
        except TemplateError as exc:
            logging.getLogger("localcloud").error("cannot start: %s", exc)
            return 1
        try:
            result: Any = cloud.invoke(args.function, event)
        except Exception as exc:  # noqa: BLE001 - printed in the Lambda error shape
            result = error_payload(exc)
            code = 1
        finally:
            cloud.stop()
    print(json.dumps(result, indent=2, default=str), file=out, flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose)
    if args.command == "dev":
        return cmd_dev(args)
    return cmd_invoke(args)


if __name__ == "__main__":
    sys.exit(main())
