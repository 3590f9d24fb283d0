"""In-process moto: server start/stop, resources from the template, Lambda bridge, demo seeding."""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from localcloud import demo
from localcloud.runtime import FunctionRuntime
from localcloud.template import (
    DDB_TABLE,
    EVENT_BUS,
    EVENT_RULE,
    KMS_ALIAS,
    KMS_KEY,
    NO_VALUE,
    S3_BUCKET,
    SAM_SIMPLE_TABLE,
    SAM_STATE_MACHINE,
    SNS_TOPIC,
    SQS_QUEUE,
    SSM_PARAMETER,
    STATE_MACHINE_TYPES,
    Template,
    load_yaml,
    to_env_string,
)

log = logging.getLogger("localcloud.aws")

FAKE_ROLE_ARN = "arn:aws:iam::123456789012:role/integrations-hub-local-role"
# Storage backends outside the template (docs/storage.md "Backends and R2 mode"): locally the
# same moto plays the secondary (R2 in production) and the backup backend, each one bucket.
LOCAL_STORAGE_BUCKETS = {"secondary": "hub-storage-secondary"}

# Resource types we know we don't emulate (silently skipped, debug log only).
SUPPORTED_TYPES = {
    SQS_QUEUE,
    DDB_TABLE,
    SAM_SIMPLE_TABLE,
    S3_BUCKET,
    EVENT_BUS,
    EVENT_RULE,
    SNS_TOPIC,
    SSM_PARAMETER,
    KMS_KEY,
    KMS_ALIAS,
    *STATE_MACHINE_TYPES,
    "AWS::Serverless::Function",
    "AWS::Serverless::LayerVersion",
}


_session_lock = threading.Lock()
_session: boto3.session.Session | None = None


def aws_client(service: str, endpoint: str) -> Any:
    """A boto3 client for the local moto (one shared session: its model cache makes this cheap)."""
    global _session
    with _session_lock:
        if _session is None:
            _session = boto3.session.Session()
        make_client: Any = _session.client  # untyped either way (see hub.aws._client_factory)
        return make_client(
            service,
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's fake credentials
        )


def patch_ses_get_account() -> None:
    """moto has no SES v2 ``GetAccount``, which the hub's SES health check calls: answer it
    as a production account with sending enabled (moto's own default quotas)."""
    from moto.sesv2 import urls
    from moto.sesv2.responses import SESV2Response

    if hasattr(SESV2Response, "get_account"):
        return
    # Routed explicitly: moto's catch-all ``/v2/.*`` rule does not reach it.
    urls.url_paths.setdefault("{0}/v2/email/account$", SESV2Response.dispatch)

    def get_account(self: Any) -> str:
        return json.dumps(
            {
                "DedicatedIpAutoWarmupEnabled": False,
                "EnforcementStatus": "HEALTHY",
                "ProductionAccessEnabled": True,
                "SendingEnabled": True,
                "SendQuota": {"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 0.0},
            }
        )

    SESV2Response.get_account = get_account  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- #
# moto server
# --------------------------------------------------------------------------- #


class MotoServer:
    """moto's ThreadedMotoServer with the config the local cloud needs."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5000) -> None:
        self.host = host
        self.port = port
        self._server: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        from moto.core.config import default_user_config
        from moto.moto_api._internal.models import moto_api_backend
        from moto.server import ThreadedMotoServer

        default_user_config["stepfunctions"]["execute_state_machine"] = True
        default_user_config["lambda"]["use_docker"] = False
        # moto keeps its state in module globals: start every local cloud empty.
        moto_api_backend.reset()
        patch_step_functions()
        patch_dynamodb_atomic_writes()
        patch_dynamodb_partition_queries()
        patch_ses_get_account()
        os.environ["MOTO_PORT"] = str(self.port)  # moto's Step Functions call Lambda here
        werkzeug_log = logging.getLogger("werkzeug")
        if werkzeug_log.level == logging.NOTSET:
            werkzeug_log.setLevel(logging.WARNING)  # moto logs every request at INFO
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        log.debug("moto listening on %s", self.endpoint)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            inner = getattr(self._server, "_server", None)
            if inner is not None:
                inner.server_close()  # ThreadedMotoServer.stop() leaves the socket open
            self._server = None


# --------------------------------------------------------------------------- #
# Lambda bridge: moto's Lambda invoke (used by Step Functions) -> our runtime
# --------------------------------------------------------------------------- #

_bridge_lock = threading.Lock()
_active_runtime: FunctionRuntime | None = None
# moto uses LambdaSimpleBackend (a LambdaBackend subclass overriding invoke) when
# use_docker is False, so both classes are patched; originals kept per class.
_originals: dict[type, Any] = {}


def _header(headers: Any, name: str) -> str | None:
    """Case-insensitive header lookup on whatever container moto passes."""
    if not headers:
        return None
    items = headers.items() if hasattr(headers, "items") else headers
    for key, value in items:
        if str(key).lower() == name.lower():
            return str(value)
    return None


def _bridged_invoke(
    self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> str | bytes | None:
    runtime = _active_runtime
    if runtime is None or runtime.lookup(function_name) is None:
        original = next(fn for cls, fn in _originals.items() if isinstance(self, cls))
        passthrough: str | bytes | None = original(self, function_name, qualifier, body, headers, response_headers)
        return passthrough
    payload = body.encode() if isinstance(body, str) else body
    if (_header(headers, "x-amz-invocation-type") or "RequestResponse") == "Event":
        threading.Thread(
            target=runtime.invoke_payload, args=(function_name, payload), daemon=True, name="lambda-event"
        ).start()
        return b""
    result = runtime.invoke_payload(function_name, payload)
    if result.error:
        response_headers["x-amz-function-error"] = "Unhandled"
    response_headers["Content-Length"] = str(len(result.payload))
    response_headers["x-amz-executed-version"] = "$LATEST"
    return result.payload


def install_lambda_bridge(runtime: FunctionRuntime | None) -> None:
    """Route moto Lambda invocations of template functions to ``runtime`` (None to detach)."""
    global _active_runtime
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda_simple.models import LambdaSimpleBackend

    with _bridge_lock:
        # subclass first: _bridged_invoke picks the first class the backend is an instance of
        for cls in (LambdaSimpleBackend, LambdaBackend):
            if cls not in _originals:
                _originals[cls] = cls.__dict__["invoke"]
                cls.invoke = _bridged_invoke  # type: ignore[method-assign]
        _active_runtime = runtime


_sfn_patched = False


def patch_step_functions() -> None:
    """moto's executing Step Functions backend names unnamed executions ``None``, so a
    second unnamed StartExecution fails with ExecutionAlreadyExists. AWS generates a UUID."""
    global _sfn_patched
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    with _bridge_lock:
        if _sfn_patched:
            return
        original = StepFunctionsParserBackend.start_execution

        def start_execution(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any) -> Any:
            return original(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

        StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]
        _sfn_patched = True


_ddb_patched = False


def patch_dynamodb_atomic_writes() -> None:
    """Make moto's DynamoDB writes atomic, as DynamoDB's are.

    DynamoDB evaluates a condition and applies the write as one step per item; moto's
    server handles requests on threads with no locking, so concurrent conditional updates
    (idempotency records, breaker probes, quota counters) can interleave and both succeed.
    One lock around the write operations restores DynamoDB's guarantee locally.
    """
    global _ddb_patched
    if _ddb_patched:
        return
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item"):
        original = getattr(DynamoDBBackend, name, None)
        if original is None:
            continue

        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)
    _ddb_patched = True


_query_patched = False
_query_scope = threading.local()


def patch_dynamodb_partition_queries() -> None:
    """Give moto's DynamoDB Query the cost DynamoDB's has: the items of one partition.

    moto answers every Query by sorting the *whole* table (``Table.all_items``) and then
    filtering it, so a query's time grows with the table, not with what it reads: at 100,000
    items one page of the console's events list (docs/console.md) took ~0.5 s where DynamoDB
    reads one partition. Locally, a base-table Query now reads only its partition
    (``Table.items[hash_key]``), and an index Query skips the redundant whole-table sort (moto
    sorts the matching items itself). Results, order, pages and filters are moto's own
    (tests/localcloud/test_moto_query_patch.py compares them with the unpatched answers).
    """
    global _query_patched
    if _query_patched:
        return
    from moto.dynamodb.models.table import Table

    original_all_items = Table.all_items
    original_query = Table.query

    def all_items(self: Any) -> Any:
        scope = getattr(_query_scope, "scope", None)
        if scope is None or scope[0] is not self:
            return all_items.__wrapped__(self)  # type: ignore[attr-defined]
        _table, partition, whole_table = scope
        if whole_table:
            return [item for hash_set in list(self.items.values()) for item in list(hash_set.values())]
        found = self.items.get(partition)
        return [] if found is None else list(found.values())

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if not self.range_key_attr:  # a hash-only table: moto's own path
            return original_query(self, hash_key, *args, **kwargs)
        _query_scope.scope = (self, hash_key, bool(index_name) or hash_key is None)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _query_scope.scope = None

    all_items.__wrapped__ = original_all_items  # type: ignore[attr-defined]
    query.__wrapped__ = original_query  # type: ignore[attr-defined]
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    _query_patched = True


# --------------------------------------------------------------------------- #
# Resources
# --------------------------------------------------------------------------- #


def _str_attrs(values: Mapping[str, Any]) -> dict[str, str]:
    return {k: to_env_string(v) for k, v in values.items() if v is not None and v is not NO_VALUE}


def _tags_list(tags: Any) -> list[dict[str, str]]:
    if isinstance(tags, list):
        return [{"Key": str(t["Key"]), "Value": to_env_string(t["Value"])} for t in tags if "Key" in t]
    if isinstance(tags, dict):
        return [{"Key": str(k), "Value": to_env_string(v)} for k, v in tags.items()]
    return []


class ResourceCreator:
    def __init__(self, template: Template, endpoint: str, *, max_wait: int | None = None) -> None:
        self.t = template
        self.endpoint = endpoint
        # Development and tests: the machines' fixed waits capped at this many seconds (moto
        # runs Wait states and Retry intervals in real time). Waits read from the input
        # (SecondsPath, TimestampPath) are the functions' to shorten.
        self.max_wait = max_wait
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = aws_client(service, self.endpoint)
        return self._clients[service]

    def create_all(self) -> None:
        for lid in self.t.logical_ids():
            rtype = self.t.resource_type(lid)
            if rtype not in SUPPORTED_TYPES:
                log.debug("skipping %s (%s): not emulated locally", lid, rtype)
        self.create_queues()
        for lid, props in self.t.iter_resources(DDB_TABLE):
            self.create_table(lid, props)
        for lid, props in self.t.iter_resources(SAM_SIMPLE_TABLE):
            self.create_simple_table(lid, props)
        for lid, props in self.t.iter_resources(S3_BUCKET):
            self.create_bucket(lid, props)
        for bucket in LOCAL_STORAGE_BUCKETS.values():
            self.client("s3").create_bucket(Bucket=bucket)
        for lid, _props in self.t.iter_resources(EVENT_BUS):
            name = self.t.physical_name(lid)
            if name != "default":
                self.client("events").create_event_bus(Name=name)
        for lid, props in self.t.iter_resources(EVENT_RULE):
            self.create_rule(lid, props)
        for lid, props in self.t.iter_resources(SNS_TOPIC):
            attrs = _str_attrs({k: props.get(k) for k in ("DisplayName", "FifoTopic", "ContentBasedDeduplication")})
            self.client("sns").create_topic(Name=self.t.physical_name(lid), Attributes=attrs)
        for lid, props in self.t.iter_resources(SSM_PARAMETER):
            self.client("ssm").put_parameter(
                Name=self.t.physical_name(lid),
                Value=to_env_string(props.get("Value", "")),
                Type=str(props.get("Type", "String")),
                Overwrite=True,
            )
        self.create_kms_keys()
        for lid, props in self.t.iter_resources(*STATE_MACHINE_TYPES):
            self.create_state_machine(lid, props)

    # -- EventBridge rules -------------------------------------------------- #

    def create_rule(self, lid: str, props: dict[str, Any]) -> None:
        """A bus rule and its SQS targets: moto delivers matching events to the queues itself,
        as EventBridge does (the queue policy that allows it in AWS is not needed locally).
        Other target kinds are not emulated (a warning names them). Scheduled rules are the
        local scheduler's (localcloud.schedules), not created here."""
        if "EventPattern" not in props:
            log.debug("rule %s has no EventPattern (a schedule?); skipped", lid)
            return
        events = self.client("events")
        name = self.t.physical_name(lid)
        bus = str(props.get("EventBusName") or "default")
        pattern = props["EventPattern"]
        events.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=pattern if isinstance(pattern, str) else json.dumps(pattern),
            State=str(props.get("State", "ENABLED")),
        )
        targets = []
        for target in props.get("Targets") or []:
            arn = str(target.get("Arn", ""))
            if arn.startswith("arn:aws:sqs:"):
                targets.append({"Id": str(target["Id"]), "Arn": arn})
            else:
                log.warning("rule %s: target %s (%s) not emulated locally; skipped", lid, target.get("Id"), arn)
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        log.debug("rule %s created on %s with %d SQS target(s)", name, bus, len(targets))

    # -- KMS --------------------------------------------------------------- #

    def create_kms_keys(self) -> dict[str, str]:
        """Customer-managed keys (rotation as declared) and their aliases; logical id -> KeyId.
        Functions name a key by its alias (``Ref`` of an ``AWS::KMS::Alias`` is its name), so
        the random KeyId moto assigns never has to be known in advance."""
        kms = self.client("kms")
        key_ids: dict[str, str] = {}
        for lid, props in self.t.iter_resources(KMS_KEY):
            kwargs: dict[str, Any] = {"Description": to_env_string(props.get("Description", lid))}
            if props.get("KeyPolicy"):
                policy = props["KeyPolicy"]
                kwargs["Policy"] = policy if isinstance(policy, str) else json.dumps(policy)
            for key in ("KeyUsage", "KeySpec"):
                if props.get(key):
                    kwargs[key] = str(props[key])
            key_id = kms.create_key(**kwargs)["KeyMetadata"]["KeyId"]
            if to_env_string(props.get("EnableKeyRotation", False)) == "true":
                kms.enable_key_rotation(KeyId=key_id)
            key_ids[lid] = key_id
            log.debug("kms key %s created (%s)", lid, key_id)
        for lid, _props in self.t.iter_resources(KMS_ALIAS):
            raw_target = (self.t.resources[lid].get("Properties") or {}).get("TargetKeyId")
            target_lid = raw_target.get("Ref") if isinstance(raw_target, dict) else None
            target = key_ids.get(str(target_lid)) if target_lid else None
            if target is None:
                log.warning("kms alias %s: target key not created locally; skipped", lid)
                continue
            kms.create_alias(AliasName=self.t.physical_name(lid), TargetKeyId=target)
        return key_ids

    # -- SQS --------------------------------------------------------------- #

    def create_queues(self) -> None:
        pending = dict(self.t.iter_resources(SQS_QUEUE))
        arn_to_lid = {self.t.get_att(lid, "Arn"): lid for lid in pending}
        created: set[str] = set()
        while pending:
            progressed = False
            for lid, props in list(pending.items()):
                dlq_arn = (props.get("RedrivePolicy") or {}).get("deadLetterTargetArn")
                dlq_lid = arn_to_lid.get(dlq_arn) if dlq_arn else None
                if dlq_lid and dlq_lid not in created and dlq_lid != lid:
                    continue
                self.create_queue(lid, props)
                created.add(lid)
                del pending[lid]
                progressed = True
            if not progressed:
                raise RuntimeError(f"circular RedrivePolicy between queues {sorted(pending)}")

    def create_queue(self, lid: str, props: dict[str, Any]) -> None:
        keys = (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "MaximumMessageSize",
            "ReceiveMessageWaitTimeSeconds",
            "FifoQueue",
            "ContentBasedDeduplication",
            "DeduplicationScope",
            "FifoThroughputLimit",
        )
        attrs = _str_attrs({k: props.get(k) for k in keys})
        for key in ("RedrivePolicy", "RedriveAllowPolicy"):
            if props.get(key):
                attrs[key] = json.dumps(props[key]) if not isinstance(props[key], str) else props[key]
        kwargs: dict[str, Any] = {"QueueName": self.t.physical_name(lid), "Attributes": attrs}
        tags = _tags_list(props.get("Tags"))
        if tags:
            kwargs["tags"] = {t["Key"]: t["Value"] for t in tags}
        self.client("sqs").create_queue(**kwargs)
        log.debug("queue %s created", kwargs["QueueName"])

    # -- DynamoDB ---------------------------------------------------------- #

    def create_table(self, lid: str, props: dict[str, Any]) -> None:
        name = self.t.physical_name(lid)
        billing = str(props.get("BillingMode", "PROVISIONED"))
        throughput = props.get("ProvisionedThroughput") or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": billing,
        }
        if billing == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = _int_throughput(throughput)
        gsis = []
        for gsi in props.get("GlobalSecondaryIndexes") or []:
            item = {k: gsi[k] for k in ("IndexName", "KeySchema", "Projection") if k in gsi}
            item.setdefault("Projection", {"ProjectionType": "ALL"})
            if billing == "PROVISIONED":
                item["ProvisionedThroughput"] = _int_throughput(gsi.get("ProvisionedThroughput") or throughput)
            gsis.append(item)
        if gsis:
            kwargs["GlobalSecondaryIndexes"] = gsis
        lsis = [
            {k: lsi[k] for k in ("IndexName", "KeySchema", "Projection") if k in lsi}
            for lsi in props.get("LocalSecondaryIndexes") or []
        ]
        if lsis:
            kwargs["LocalSecondaryIndexes"] = lsis
        stream = props.get("StreamSpecification")
        if stream and stream.get("StreamViewType"):
            kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        tags = _tags_list(props.get("Tags"))
        if tags:
            kwargs["Tags"] = tags
        ddb = self.client("dynamodb")
        ddb.create_table(**kwargs)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("AttributeName"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={
                    "AttributeName": ttl["AttributeName"],
                    "Enabled": to_env_string(ttl.get("Enabled", True)) == "true",
                },
            )
        log.debug("table %s created", name)

    def create_simple_table(self, lid: str, props: dict[str, Any]) -> None:
        pk = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        type_map = {"String": "S", "Number": "N", "Binary": "B"}
        table_props: dict[str, Any] = {
            "KeySchema": [{"AttributeName": pk["Name"], "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": pk["Name"], "AttributeType": type_map.get(pk["Type"], "S")}],
            "BillingMode": "PROVISIONED" if props.get("ProvisionedThroughput") else "PAY_PER_REQUEST",
        }
        if props.get("ProvisionedThroughput"):
            table_props["ProvisionedThroughput"] = props["ProvisionedThroughput"]
        self.create_table(lid, table_props)

    # -- S3 ---------------------------------------------------------------- #

    def create_bucket(self, lid: str, props: dict[str, Any]) -> None:
        name = self.t.physical_name(lid)
        s3 = self.client("s3")
        s3.create_bucket(Bucket=name)
        versioning = (props.get("VersioningConfiguration") or {}).get("Status")
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
        rules = (props.get("LifecycleConfiguration") or {}).get("Rules") or []
        if rules:
            try:
                s3.put_bucket_lifecycle_configuration(
                    Bucket=name, LifecycleConfiguration={"Rules": [_lifecycle_rule(r) for r in rules]}
                )
            except Exception as exc:  # noqa: BLE001 - best effort, lifecycle is cosmetic locally
                log.warning("bucket %s: lifecycle configuration not applied: %s", name, exc)
        log.debug("bucket %s created", name)

    # -- Step Functions ---------------------------------------------------- #

    def create_state_machine(self, lid: str, props: dict[str, Any]) -> None:
        name = self.t.physical_name(lid)
        try:
            definition = self.state_machine_definition(lid, props)
        except Exception as exc:  # noqa: BLE001 - report and keep the rest of the stack usable
            log.error("state machine %s: cannot load definition: %s", lid, exc)
            return
        is_sam = self.t.resource_type(lid) == SAM_STATE_MACHINE
        sm_type = props.get("Type" if is_sam else "StateMachineType") or "STANDARD"
        role = props.get("Role") if is_sam else props.get("RoleArn")
        try:
            self.client("stepfunctions").create_state_machine(
                name=name,
                definition=json.dumps(definition),
                roleArn=role if isinstance(role, str) and role.startswith("arn:") else FAKE_ROLE_ARN,
                type=str(sm_type),
            )
        except Exception as exc:  # noqa: BLE001
            log.error("state machine %s: moto rejected the definition: %s", lid, exc)
            return
        log.debug("state machine %s created", name)

    def state_machine_definition(self, lid: str, props: dict[str, Any]) -> Any:
        definition: Any
        if props.get("Definition") is not None:
            definition = props["Definition"]
        elif isinstance(props.get("DefinitionString"), str):
            definition = json.loads(props["DefinitionString"])
        elif isinstance(props.get("DefinitionUri"), str):
            path = (self.t.dir / props["DefinitionUri"]).resolve()
            if path.suffix == ".json":
                definition = json.loads(path.read_text(encoding="utf-8"))
            else:
                definition = load_yaml(path)
        else:
            raise ValueError("no Definition, DefinitionString or local DefinitionUri")
        subs = {str(k): to_env_string(v) for k, v in (props.get("DefinitionSubstitutions") or {}).items()}
        definition = substitute(definition, subs)
        if self.max_wait is not None:
            cap_waits(definition, self.max_wait)
        return definition


def cap_waits(definition: Any, seconds: int) -> None:
    """Cap every Wait state's ``Seconds`` and every Retry's ``IntervalSeconds`` (and
    ``MaxDelaySeconds``) of a definition, nested machines (Map, Parallel) included, in place."""
    if isinstance(definition, list):
        for item in definition:
            cap_waits(item, seconds)
        return
    if not isinstance(definition, dict):
        return
    if definition.get("Type") == "Wait" and isinstance(definition.get("Seconds"), int):
        definition["Seconds"] = min(definition["Seconds"], seconds)
    for key in ("IntervalSeconds", "MaxDelaySeconds"):
        if isinstance(definition.get(key), int) and "ErrorEquals" in definition:
            definition[key] = max(1, min(definition[key], seconds))
    for value in definition.values():
        cap_waits(value, seconds)


def substitute(value: Any, subs: Mapping[str, str]) -> Any:
    """Replace ``${Name}`` placeholders (DefinitionSubstitutions) in every string."""
    if isinstance(value, str):
        for key, replacement in subs.items():
            value = value.replace("${" + key + "}", replacement)
        return value
    if isinstance(value, list):
        return [substitute(v, subs) for v in value]
    if isinstance(value, dict):
        return {substitute(k, subs): substitute(v, subs) for k, v in value.items()}
    return value


def _int_throughput(tp: Mapping[str, Any]) -> dict[str, int]:
    return {
        "ReadCapacityUnits": int(tp.get("ReadCapacityUnits", 5)),
        "WriteCapacityUnits": int(tp.get("WriteCapacityUnits", 5)),
    }


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """CloudFormation's LifecycleConfiguration rule -> S3 API rule."""
    out: dict[str, Any] = {"Status": rule.get("Status", "Enabled")}
    if rule.get("Id"):
        out["ID"] = rule["Id"]
    out["Filter"] = {"Prefix": rule.get("Prefix", "")}
    if rule.get("ExpirationInDays") is not None:
        out["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    elif rule.get("ExpirationDate"):
        out["Expiration"] = {"Date": rule["ExpirationDate"]}
    if rule.get("NoncurrentVersionExpirationInDays") is not None:
        out["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(rule["NoncurrentVersionExpirationInDays"])}
    elif rule.get("NoncurrentVersionExpiration"):
        out["NoncurrentVersionExpiration"] = {
            "NoncurrentDays": int(rule["NoncurrentVersionExpiration"].get("NoncurrentDays", 1))
        }
    abort = rule.get("AbortIncompleteMultipartUpload")
    if abort:
        out["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(abort["DaysAfterInitiation"])}
    transitions = rule.get("Transitions")
    if transitions:
        out["Transitions"] = [
            {"Days": int(t.get("TransitionInDays", 0)), "StorageClass": t["StorageClass"]} for t in transitions
        ]
    return out


# --------------------------------------------------------------------------- #
# Demo organisation
# --------------------------------------------------------------------------- #


def secrets_prefix(template: Template) -> str:
    value = template.env_value("SECRETS_PREFIX")
    if value:
        return value
    for name in ("SECRETS_PREFIX", "SecretsPrefix"):
        param = template.parameters.get(name)
        if isinstance(param, str) and param:
            return param
    return demo.DEFAULT_SECRETS_PREFIX


def seed_demo(template: Template, endpoint: str, sandbox_url: str, api_url: str = "") -> list[str]:
    """Register the demo orgs and create their secrets; returns the secret ids.

    Provider integrations with a sandbox and an outbound client are connected through the
    layer's ``IntegrationConnect`` code (credentials checked live against the sandbox, stored
    encrypted with the template's KMS key, a record and an audit entry written), when the
    template declares that function; org settings (messaging, payments, custom sources) and
    webhook-only providers are written directly. The values are the sandboxes' demo values
    either way, so every e2e test's credentials and webhook tokens stay the same."""
    prefix = secrets_prefix(template)
    orgs_table = template.env_value("ORGS_TABLE")
    if orgs_table:
        seed_orgs(endpoint, orgs_table, demo.DEMO_ORGS)
    values_by_org: dict[str, dict[str, dict[str, Any]]] = {}
    pending: list[tuple[demo.DemoSecret, dict[str, Any]]] = []
    for secret in demo.demo_secrets():
        if secret.org_id not in values_by_org:
            values_by_org[secret.org_id] = demo.demo_secret_values(sandbox_url, secret.org_id)
        pending.append((secret, values_by_org[secret.org_id][secret.provider]))
    connected: set[tuple[str, str]] = set()
    if "IntegrationConnect" in template.resources:
        connected = connect_demo_integrations(template, pending, sandbox_url, api_url)
    sm = aws_client("secretsmanager", endpoint)
    ids = []
    for secret, value in pending:
        if (secret.org_id, secret.provider) not in connected:
            sm.create_secret(Name=secret.secret_id(prefix), SecretString=json.dumps(value))
        ids.append(secret.secret_id(prefix))
    # SES (moto) only sends from verified identities, as real SES does.
    aws_client("ses", endpoint).verify_domain_identity(Domain=demo.EMAIL_DOMAIN)
    assets_bucket = template.env_value("PUBLIC_ASSETS_BUCKET")
    if assets_bucket:
        seed_design_templates(endpoint, assets_bucket, demo.DEMO_ORG_ID)
    log.debug("seeded demo secrets %s (connected: %s)", ids, sorted(connected))
    return ids


def layer_child_env(template: Template, environment: Mapping[str, str]) -> dict[str, str]:
    """The environment of a child process that runs layer code as a function would: this
    process's, the function's ``environment``, the layer and the repository on PYTHONPATH, no
    tracing and no error reports (seeding is not an invocation; the Sentry secret may not exist yet)."""
    env = dict(os.environ)
    env.update(environment)
    env["POWERTOOLS_TRACE_DISABLED"] = "true"
    env.pop("SENTRY_DSN_SECRET", None)
    paths = [str(p) for p in template.layer_dirs()] + [str(Path(__file__).resolve().parents[1])]
    env["PYTHONPATH"] = os.pathsep.join([*paths, *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def create_console_login_token(template: Template) -> str | None:
    """The console's one-time login token (``localcloud.console_login`` in a child process with
    the layer on its path and ConsoleApi's environment), or None when the template has no console
    or the token could not be made (logged: `make dev` still starts)."""
    import subprocess
    import sys

    spec = next((f for f in template.functions() if f.logical_id == "ConsoleApi"), None)
    if spec is None:
        return None
    env = layer_child_env(template, spec.environment)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "localcloud.console_login"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        log.warning("console login token not made in time")
        return None
    token = done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else ""
    if not token:
        log.warning("console login token not made (exit %s): %s", done.returncode, done.stderr.strip()[-500:])
        return None
    return token


def connect_demo_integrations(
    template: Template, pending: list[tuple[demo.DemoSecret, dict[str, Any]]], sandbox_url: str = "", api_url: str = ""
) -> set[tuple[str, str]]:
    """IntegrationConnect (``localcloud.seed_integrations``, in a child process with the layer on
    its path and the function's environment: the engine never imports the layer) for every demo
    secret of a provider the hub calls; (org, provider) of those connected. One whose check
    fails is logged and left to the direct write: `make dev` still starts."""
    import subprocess
    import sys

    spec = next((f for f in template.functions() if f.logical_id == "IntegrationConnect"), None)
    env = layer_child_env(template, spec.environment if spec is not None else {})
    env["AWS_LAMBDA_FUNCTION_NAME"] = "make-dev"  # the audit trail's actor: service:make-dev
    env["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the banner, not a line per provider call
    # The demo secrets point at the sandboxes: a private base_url IntegrationConnect must accept.
    env["PROVIDER_PRIVATE_URL_PREFIXES"] = f"{sandbox_url}/"
    if api_url:  # providers' webhooks are registered pointing at the local API
        env["PUBLIC_API_URL"] = api_url
    items = [{"org_id": s.org_id, "provider": s.provider, "credentials": v} for s, v in pending]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "localcloud.seed_integrations"],
            input=json.dumps(items),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        log.warning("demo integrations not connected in time; secrets written directly")
        return set()
    for line in done.stderr.splitlines():
        if line.strip():
            log.warning("%s", line)
    if done.returncode != 0:
        log.warning("demo integrations not connected (exit %s); secrets written directly", done.returncode)
        return set()
    # Its answer is the last line: the functions' EMF metric lines (hub.metrics) go to stdout too.
    answer = next((line for line in reversed(done.stdout.splitlines()) if line.startswith("[")), "[]")
    return {(org, provider) for org, provider in json.loads(answer)}


DEMO_TEMPLATES_DIR = Path(__file__).resolve().parent / "demo_templates"


def seed_design_templates(endpoint: str, bucket: str, org_id: str) -> list[str]:
    """The demo HTML/CSS design templates (localcloud/demo_templates/<name>/…) at
    ``{org_id}/templates/<name>/…`` in public-assets, where DesignTemplateRender reads them."""
    s3 = aws_client("s3", endpoint)
    keys = []
    for path in sorted(DEMO_TEMPLATES_DIR.rglob("*")):
        if path.is_file():
            key = f"{org_id}/templates/{path.relative_to(DEMO_TEMPLATES_DIR).as_posix()}"
            kind = {".html": "text/html", ".css": "text/css"}.get(path.suffix, "application/octet-stream")
            s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=kind)
            keys.append(key)
    return keys


def seed_orgs(endpoint: str, table: str, orgs: Mapping[str, str], *, created_by: str = "make dev") -> None:
    """Register ``org_id -> name`` in the org registry (as OrgCreate would; existing ones kept)."""
    dynamodb = aws_client("dynamodb", endpoint)
    for org_id, name in orgs.items():
        try:
            dynamodb.put_item(
                TableName=table,
                Item={
                    "org_id": {"S": org_id},
                    "name": {"S": name},
                    "created_at": {"S": datetime.now(UTC).isoformat()},
                    "created_by": {"S": created_by},
                },
                ConditionExpression="attribute_not_exists(org_id)",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            pass
    log.debug("seeded orgs %s", sorted(orgs))
