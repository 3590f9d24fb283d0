"""Operator commands for the hub.

  python -m ops --stack integrations-hub-prod replay --provider stripe --org acme \\
      --from 2026-11-22T00:00:00+00:00 --to 2026-11-22T06:00:00+00:00 [--event-id ID]
  python -m ops --stack integrations-hub-prod replay --key raw/stripe/acme/2026/11/22/...json
  python -m ops --stack integrations-hub-prod redrive            # inbound DLQ -> inbound queue
  python -m ops --stack integrations-hub-prod enable --org acme --provider asaas --actor you@agency
  python -m ops --stack integrations-hub-prod integration list --org acme | get|test --org acme --provider asaas
  python -m ops --stack integrations-hub-prod integration disable --org acme --provider asaas \\
      --reason "paused" --actor you@agency
  python -m ops --stack integrations-hub-prod budget --org acme --monthly-usd 500 [--hard-stop]
  python -m ops --stack integrations-hub-prod route --org acme --task sdr_whatsapp --provider gemini
  python -m ops --stack integrations-hub-prod org create --org acme --name "Acme Ltda" --actor you@agency
  python -m ops --stack integrations-hub-prod org list | org show --org acme
  python -m ops --stack integrations-hub-prod storage backups [--bucket media-uploads --prefix acme/]
  python -m ops --stack integrations-hub-prod storage backup [--bucket media-uploads] [--org acme] [--dry-run]
  python -m ops --stack integrations-hub-prod storage restore --bucket media-uploads --prefix acme/ \
      [--to-bucket BUCKET] [--at RUN_ID] [--dry-run]
  python -m ops --local replay ...                                # against a running `make dev`

Run it from the repository root (ops puts the layer, layers/hub, on the import path itself).
Replay republishes an archived request whose events never reached the event bus (lost after
the DLQ, say) and reports as duplicates those that did. The answer is JSON on stdout; logs go
to stderr. Resource names come from the stack's outputs (--stack) or from template.yaml (--local).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3

ROOT = Path(__file__).resolve().parents[1]
# Stack output -> environment variable the layer reads.
OUTPUTS = {
    "WebhookArchiveBucketName": "WEBHOOK_ARCHIVE_BUCKET",
    "InboundEventsQueueUrl": "INBOUND_EVENTS_QUEUE_URL",
    "InboundEventsDLQUrl": "INBOUND_EVENTS_DLQ_URL",
    "IdempotencyTableName": "IDEMPOTENCY_TABLE",
    "ResilienceTableName": "RESILIENCE_TABLE",
    "AuditTableName": "AUDIT_TABLE",
    "EventBusName": "EVENT_BUS_NAME",
    "SpendTableName": "SPEND_TABLE",
    "OrgsTableName": "ORGS_TABLE",
    "IntegrationsTableName": "INTEGRATIONS_TABLE",
    "SecurityAlertsTopicArn": "ALERTS_TOPIC_ARN",
}


# Read by `storage` only (docs/storage.md "Backups and restore"); older stacks lack them.
BACKUP_OUTPUTS = {
    "BackupManifestTableName": "BACKUP_MANIFEST_TABLE",
    "BackupTargetBucket": "BACKUP_BUCKET",
    "BackupSources": "BACKUP_SOURCES",
    "BackupTables": "BACKUP_TABLES",
}


def configure_from_stack(stack: str) -> None:
    described = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = [k for k in OUTPUTS if k not in outputs]
    if missing:
        raise SystemExit(f"stack {stack} lacks outputs {missing}; deploy the current template first")
    for key, env in OUTPUTS.items():
        os.environ[env] = outputs[key]
    for key, env in BACKUP_OUTPUTS.items():
        if key in outputs:
            os.environ.setdefault(env, outputs[key])  # BACKUP_ENDPOINT_URL & co. come from the caller


def configure_local(endpoint: str) -> None:
    from localcloud.template import Template

    template = Template(ROOT / "template.yaml", aws_endpoint=endpoint)
    for key, env in OUTPUTS.items():
        os.environ[env] = str(template.resolve(template.raw["Outputs"][key]["Value"]))
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ["STORAGE_ENDPOINT_URL"] = endpoint
    for key, env in BACKUP_OUTPUTS.items():
        os.environ[env] = str(template.resolve(template.raw["Outputs"][key]["Value"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="deployed stack name (uses the current AWS credentials)")
    where.add_argument("--local", action="store_true", help="the local cloud of `make dev`")
    parser.add_argument("--endpoint", default="http://127.0.0.1:5000", help="AWS endpoint with --local")
    sub = parser.add_subparsers(dest="command", required=True)

    rep = sub.add_parser("replay", help="replay archived webhooks through the normal path (dedupe holds)")
    rep.add_argument("--key", action="append", default=[], help="archive key (repeatable)")
    rep.add_argument("--provider")
    rep.add_argument("--org")
    rep.add_argument("--from", dest="start", type=datetime.fromisoformat, help="ISO-8601, with offset")
    rep.add_argument("--to", dest="end", type=datetime.fromisoformat, help="ISO-8601, with offset")
    rep.add_argument("--event-id", help="only the archived requests that carry this event id")

    red = sub.add_parser("redrive", help="move messages from a DLQ back to its source queue")
    red.add_argument("--dlq", help="DLQ URL (default: the inbound events DLQ)")
    red.add_argument("--to", dest="target", help="target queue URL (default: the inbound events queue)")
    red.add_argument("--limit", type=int, default=10_000)
    ena = sub.add_parser("enable", help="re-enable an integration disabled after rejected credentials")
    ena.add_argument("--org", required=True)
    ena.add_argument("--provider", required=True)
    ena.add_argument("--actor", required=True, help="who re-enables it (written to the audit trail)")
    integ = sub.add_parser("integration", help="an org's integrations: list, get, test, disable, enable")
    integ_sub = integ.add_subparsers(dest="integration_command", required=True)
    integ_list = integ_sub.add_parser("list", help="every integration of the org (never a secret)")
    integ_list.add_argument("--org", required=True)
    for name, text in (
        ("get", "one integration"),
        ("test", "run its health check now and record the result"),
        ("disable", "refuse its calls until enabled"),
        ("enable", "back to connected"),
    ):
        command = integ_sub.add_parser(name, help=text)
        command.add_argument("--org", required=True)
        command.add_argument("--provider", required=True)
        if name in ("test", "disable", "enable"):
            command.add_argument("--actor", required=name != "test", help="who (written to the audit trail)")
        if name == "disable":
            command.add_argument("--reason", required=True)
    bud = sub.add_parser("budget", help="an org's monthly USD budget: AI + billed providers (events at 80/100/120 %%)")
    bud.add_argument("--org", required=True)
    bud.add_argument("--monthly-usd", required=True, type=Decimal)
    bud.add_argument("--hard-stop", action="store_true", help="refuse AI calls once the total is spent")

    rou = sub.add_parser("route", help="override which provider/model answers a task for an org")
    rou.add_argument("--org", required=True)
    rou.add_argument("--task", required=True)
    rou.add_argument("--provider", required=True)
    rou.add_argument("--model", help="default: the provider's default model")

    org = sub.add_parser("org", help="the org registry: create, list, show (docs/orgs.md)")
    org_sub = org.add_subparsers(dest="org_command", required=True)
    org_create = org_sub.add_parser("create", help="register an org (the same id again answers the existing one)")
    org_create.add_argument("--org", required=True)
    org_create.add_argument("--name", required=True)
    org_create.add_argument("--actor", help="who creates it (stored as created_by)")
    org_sub.add_parser("list", help="every registered org")
    org_show = org_sub.add_parser("show", help="one registered org")
    org_show.add_argument("--org", required=True)

    sto = sub.add_parser("storage", help="backups: list, run, restore (docs/storage.md)")
    sto_sub = sto.add_subparsers(dest="storage_command", required=True)
    sto_list = sto_sub.add_parser("backups", help="the latest backup runs, or what the backup holds of a bucket")
    sto_list.add_argument("--bucket", help="logical bucket (media-uploads ...): its backed-up objects")
    sto_list.add_argument("--prefix", default="")
    sto_list.add_argument("--limit", type=int, default=20)
    sto_run = sto_sub.add_parser("backup", help="run StorageBackupRun's code now (verified, incremental)")
    sto_run.add_argument("--bucket", action="append", dest="buckets", help="logical bucket (repeatable)")
    sto_run.add_argument("--table", action="append", dest="tables", help="table to export (repeatable)")
    sto_run.add_argument("--org")
    sto_run.add_argument("--dry-run", action="store_true")
    sto_res = sto_sub.add_parser("restore", help="restore objects from the backup, checked against their SHA-256")
    sto_res.add_argument("--bucket", required=True, help="logical bucket backed up (media-uploads ...)")
    sto_res.add_argument("--prefix", default="", help="only keys under this prefix (e.g. the org: acme/)")
    sto_res.add_argument("--to-bucket", help="restore into this bucket (logical name or bucket); default: the same")
    sto_res.add_argument("--at", help="a run id (storage backups): each object as backed up by that run or before")
    sto_res.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)

    if args.local:
        configure_local(args.endpoint)
    else:
        configure_from_stack(args.stack)

    # Imported after the environment is set: the layer reads its settings once.
    from hub.observability import logger as hub_logger
    from hub.webhooks.replay import archived_keys, redrive, replay

    # stdout carries the command's JSON answer; the layer's log lines go to stderr.
    handler = hub_logger.registered_handler
    if isinstance(handler, logging.StreamHandler):
        handler.setStream(sys.stderr)

    if args.command == "org":
        return org_command(args)

    if args.command == "storage":
        return storage_command(args)

    if args.command == "budget":
        from hub.ai.spend import Budget, set_budget

        set_budget(args.org, Budget(monthly_usd=args.monthly_usd, hard_stop=args.hard_stop))
        print(json.dumps({"budget": f"{args.org}: USD {args.monthly_usd}", "hard_stop": args.hard_stop}))
        return 0

    if args.command == "route":
        from hub.ai.routing import route_for
        from hub.ai.spend import org_routes, set_org_routes

        routes = {**org_routes(args.org), args.task: route_for(None, args.provider, args.model)}
        set_org_routes(args.org, routes)
        print(json.dumps({task: vars(r) for task, r in routes.items()}))
        return 0

    if args.command == "enable":
        # The same layer code as IntegrationEnable (needs_reauth refused: reconnect instead).
        args.integration_command = "enable"
        return integration_command(args, legacy=True)

    if args.command == "integration":
        return integration_command(args)

    if args.command == "redrive":
        moved = redrive(
            args.dlq or os.environ["INBOUND_EVENTS_DLQ_URL"],
            args.target or os.environ["INBOUND_EVENTS_QUEUE_URL"],
            limit=args.limit,
        )
        print(json.dumps({"moved": moved}))
        return 0

    if args.key:
        keys = list(args.key)
    elif args.provider and args.org and args.start and args.end:
        keys = list(archived_keys(args.provider, args.org, args.start, args.end))
    else:
        parser.error("replay needs --key, or --provider, --org, --from and --to")
    report = replay(keys, event_id=args.event_id)
    print(json.dumps(asdict(report), indent=2))
    return 1 if report.rejected else 0


def integration_command(args: argparse.Namespace, *, legacy: bool = False) -> int:
    """``integration list|get|test|disable|enable`` (and ``enable``) through the same layer code
    as IntegrationList, IntegrationGet, IntegrationTest, IntegrationDisable and IntegrationEnable."""
    from hub.errors import HubError
    from hub.integrations import models, operations
    from hub.invocation import parse_request

    command = args.integration_command
    request: dict[str, object] = {"org_id": args.org}
    if command != "list":
        request["provider"] = args.provider
    if command in ("test", "disable", "enable") and args.actor:
        request["actor"] = args.actor
    if command == "disable":
        request["reason"] = args.reason
    runs: dict[str, tuple[Any, Any]] = {
        "list": (models.IntegrationListRequest, operations.integration_list),
        "get": (models.IntegrationGetRequest, operations.integration_get),
        "test": (models.IntegrationTestRequest, operations.integration_test),
        "disable": (models.IntegrationDisableRequest, operations.integration_disable),
        "enable": (models.IntegrationEnableRequest, operations.integration_enable),
    }
    model, run = runs[command]
    try:
        result = run(parse_request(model, request)).model_dump(mode="json", exclude_none=True)
    except HubError as exc:
        print(json.dumps(exc.to_dict()), file=sys.stderr)
        return 2
    if legacy:
        result = {"enabled": f"{args.org}/{args.provider}", **result}
    print(json.dumps(result, indent=2))
    return 0


def storage_command(args: argparse.Namespace) -> int:
    """``storage backups|backup|restore`` through the same layer code as StorageBackupRun."""
    from hub import backups
    from hub.errors import HubError
    from hub.invocation import parse_request

    try:
        if args.storage_command == "backups":
            print(json.dumps(backups.list_backups(args.bucket, args.prefix, limit=args.limit), indent=2))
            return 0
        if args.storage_command == "backup":
            request: dict[str, object] = {"dry_run": args.dry_run}
            if args.buckets is not None or args.tables is not None:
                request["buckets"] = args.buckets or []
                request["tables"] = args.tables or []
            if args.org:
                request["org_id"] = args.org
            report = backups.run_backup(parse_request(backups.BackupRunRequest, request))
            print(json.dumps(report.model_dump(mode="json"), indent=2))
            return 1 if report.failed else 0
        restored = backups.restore(args.bucket, args.prefix, to_bucket=args.to_bucket, at=args.at, dry_run=args.dry_run)
    except HubError as exc:
        print(json.dumps(exc.to_dict()), file=sys.stderr)
        return 2
    print(json.dumps(restored.model_dump(mode="json"), indent=2))
    return 1 if restored.failed else 0


def org_command(args: argparse.Namespace) -> int:
    """``org create|list|show`` through the same layer code as OrgCreate and OrgGet."""
    from hub.errors import InvalidRequestError
    from hub.invocation import parse_request
    from hub.orgs import OrgCreateRequest, OrgGetRequest, iter_orgs, org_create, org_get

    try:
        if args.org_command == "create":
            request = {"org_id": args.org, "name": args.name, "created_by": args.actor}
            created = org_create(parse_request(OrgCreateRequest, request))
            print(json.dumps(created.model_dump(mode="json", exclude_none=True)))
        elif args.org_command == "show":
            org = org_get(parse_request(OrgGetRequest, {"org_id": args.org}))
            print(json.dumps(org.model_dump(mode="json", exclude_none=True)))
        else:
            print(json.dumps([o.model_dump(mode="json", exclude_none=True) for o in iter_orgs()], indent=2))
    except InvalidRequestError as exc:
        print(json.dumps(exc.to_dict()), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
