"""SAM / CloudFormation template loading and intrinsic-function resolution.

Only what the local cloud needs: parameters, pseudo parameters, conditions,
mappings, SAM ``Globals.Function``, and Ref/GetAtt of the resource types we
emulate. Everything else resolves to deterministic fake values.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("localcloud.template")

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
STACK_NAME = "integrations-hub-local"
PARTITION = "aws"
URL_SUFFIX = "amazonaws.com"

SQS_QUEUE = "AWS::SQS::Queue"
DDB_TABLE = "AWS::DynamoDB::Table"
SAM_SIMPLE_TABLE = "AWS::Serverless::SimpleTable"
S3_BUCKET = "AWS::S3::Bucket"
SAM_FUNCTION = "AWS::Serverless::Function"
LAMBDA_FUNCTION = "AWS::Lambda::Function"
SAM_STATE_MACHINE = "AWS::Serverless::StateMachine"
SFN_STATE_MACHINE = "AWS::StepFunctions::StateMachine"
EVENT_BUS = "AWS::Events::EventBus"
EVENT_RULE = "AWS::Events::Rule"
SNS_TOPIC = "AWS::SNS::Topic"
SAM_LAYER = "AWS::Serverless::LayerVersion"
LAMBDA_LAYER = "AWS::Lambda::LayerVersion"
IAM_ROLE = "AWS::IAM::Role"
SSM_PARAMETER = "AWS::SSM::Parameter"
KMS_KEY = "AWS::KMS::Key"
KMS_ALIAS = "AWS::KMS::Alias"

STATE_MACHINE_TYPES = (SAM_STATE_MACHINE, SFN_STATE_MACHINE)
FUNCTION_TYPES = (SAM_FUNCTION, LAMBDA_FUNCTION)
LAYER_TYPES = (SAM_LAYER, LAMBDA_LAYER)

# Property holding the physical name, per resource type.
_NAME_PROPERTY: dict[str, str] = {
    SQS_QUEUE: "QueueName",
    DDB_TABLE: "TableName",
    SAM_SIMPLE_TABLE: "TableName",
    S3_BUCKET: "BucketName",
    SAM_FUNCTION: "FunctionName",
    LAMBDA_FUNCTION: "FunctionName",
    SAM_STATE_MACHINE: "Name",
    SFN_STATE_MACHINE: "StateMachineName",
    EVENT_BUS: "Name",
    EVENT_RULE: "Name",
    SNS_TOPIC: "TopicName",
    SAM_LAYER: "LayerName",
    LAMBDA_LAYER: "LayerName",
    IAM_ROLE: "RoleName",
    SSM_PARAMETER: "Name",
    KMS_ALIAS: "AliasName",
}


class TemplateError(Exception):
    """The template cannot be loaded or resolved."""


class _NoValue:
    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

# --------------------------------------------------------------------------- #
# YAML loading
# --------------------------------------------------------------------------- #

_SHORT_TAGS = (
    "Ref",
    "Condition",
    "Sub",
    "GetAtt",
    "Join",
    "If",
    "Select",
    "Split",
    "Equals",
    "Not",
    "And",
    "Or",
    "FindInMap",
    "ImportValue",
    "Base64",
    "GetAZs",
    "Cidr",
    "Transform",
    "ToJsonString",
    "Length",
)


class CfnLoader(yaml.SafeLoader):
    """SafeLoader + CloudFormation short-form tags; timestamps stay strings."""


CfnLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _make_constructor(tag: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:  # pragma: no cover - defensive
            raise TemplateError(f"unsupported node for !{tag}")
        if tag in ("Ref", "Condition"):
            return {tag: value}
        if tag == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {f"Fn::{tag}": value}

    return construct


for _tag in _SHORT_TAGS:
    CfnLoader.add_constructor(f"!{_tag}", _make_constructor(_tag))


def load_yaml(path: str | Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader


def load_template(path: str | Path) -> dict[str, Any]:
    data = load_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources)")
    return data


# --------------------------------------------------------------------------- #
# Specs handed to the rest of the local cloud
# --------------------------------------------------------------------------- #


@dataclass
class EventSpec:
    name: str
    type: str
    properties: dict[str, Any]


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str
    runtime: str
    memory_size: int
    timeout: int
    environment: dict[str, str]
    events: list[EventSpec] = field(default_factory=list)

    @property
    def module_path(self) -> Path:
        module, _, _ = self.handler.rpartition(".")
        return self.code_dir / (module.replace(".", "/") + ".py")

    @property
    def handler_attr(self) -> str:
        return self.handler.rpartition(".")[2]


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def _is_intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = next(iter(value))
    return key == "Ref" or key.startswith("Fn::") or (key == "Condition" and isinstance(value[key], str))


def merge_globals(global_props: dict[str, Any], local_props: dict[str, Any]) -> dict[str, Any]:
    """SAM Globals semantics: maps merge (local wins), lists concatenate, scalars override."""
    out = copy.deepcopy(global_props)
    for key, local in local_props.items():
        glob = out.get(key)
        if isinstance(glob, dict) and isinstance(local, dict) and not _is_intrinsic(glob) and not _is_intrinsic(local):
            out[key] = merge_globals(glob, local)
        elif isinstance(glob, list) and isinstance(local, list):
            out[key] = glob + copy.deepcopy(local)
        else:
            out[key] = copy.deepcopy(local)
    return out


def default_physical_name(logical_id: str, stack_name: str = STACK_NAME) -> str:
    return f"{stack_name}-{logical_id.lower()}"


def bucket_safe_name(name: str) -> str:
    name = re.sub(r"[^a-z0-9.-]", "-", name.lower())
    name = re.sub(r"-{2,}", "-", name).strip("-.")
    return (name or "bucket")[:63].rstrip("-.")


def to_env_string(value: Any) -> str:
    """CloudFormation turns every environment value into a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _scalar_eq(a: Any, b: Any) -> bool:
    if isinstance(a, (str, int, float, bool)) and isinstance(b, (str, int, float, bool)):
        return to_env_string(a) == to_env_string(b)
    return bool(a == b)


# --------------------------------------------------------------------------- #
# Template
# --------------------------------------------------------------------------- #


class Template:
    """A parsed template plus a resolver for its intrinsic functions."""

    def __init__(
        self,
        path: str | Path,
        parameter_overrides: dict[str, Any] | None = None,
        aws_endpoint: str = "http://127.0.0.1:5000",
        stack_name: str = STACK_NAME,
    ) -> None:
        self.path = Path(path).resolve()
        self.dir = self.path.parent
        self.raw = load_template(self.path)
        self.aws_endpoint = aws_endpoint.rstrip("/")
        self.stack_name = stack_name
        self.region = REGION
        self.account_id = ACCOUNT_ID
        self.mappings: dict[str, Any] = self.raw.get("Mappings") or {}
        self._conditions_raw: dict[str, Any] = self.raw.get("Conditions") or {}
        self._condition_cache: dict[str, bool] = {}
        self._names: dict[str, str] = {}
        self._resolving: set[str] = set()
        self._props_cache: dict[str, dict[str, Any]] = {}
        self.parameters = self._load_parameters(parameter_overrides or {})
        self.globals_function: dict[str, Any] = (self.raw.get("Globals") or {}).get("Function") or {}
        self.resources: dict[str, dict[str, Any]] = {}
        for lid, res in (self.raw.get("Resources") or {}).items():
            if not isinstance(res, dict) or "Type" not in res:
                raise TemplateError(f"resource {lid} has no Type")
            res = copy.deepcopy(res)
            if res["Type"] == SAM_FUNCTION and self.globals_function:
                res["Properties"] = merge_globals(self.globals_function, res.get("Properties") or {})
            self.resources[lid] = res

    # -- parameters / conditions ------------------------------------------- #

    def _load_parameters(self, overrides: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, spec in (self.raw.get("Parameters") or {}).items():
            spec = spec or {}
            if name in overrides:
                value = overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                log.warning("parameter %s has no Default and no override; using ''", name)
                value = ""
            ptype = str(spec.get("Type", "String"))
            if ("List" in ptype) and isinstance(value, str):
                value = [v.strip() for v in value.split(",")] if value else []
            elif not isinstance(value, list):
                value = to_env_string(value)
            params[name] = value
        for name, value in overrides.items():
            params.setdefault(name, value)
        return params

    def condition(self, name: str) -> bool:
        if name not in self._condition_cache:
            if name not in self._conditions_raw:
                raise TemplateError(f"unknown condition {name!r}")
            self._condition_cache[name] = bool(self.resolve(self._conditions_raw[name]))
        return self._condition_cache[name]

    def resource_enabled(self, logical_id: str) -> bool:
        cond = self.resources[logical_id].get("Condition")
        return True if cond is None else self.condition(str(cond))

    # -- resources --------------------------------------------------------- #

    def resource_type(self, logical_id: str) -> str:
        return str(self.resources[logical_id]["Type"])

    def logical_ids(self, *types: str) -> list[str]:
        return [
            lid
            for lid, res in self.resources.items()
            if (not types or res["Type"] in types) and self.resource_enabled(lid)
        ]

    def properties(self, logical_id: str) -> dict[str, Any]:
        """Fully resolved Properties of a resource (cached)."""
        if logical_id not in self._props_cache:
            raw = self.resources[logical_id].get("Properties") or {}
            resolved = self.resolve(raw)
            self._props_cache[logical_id] = resolved if isinstance(resolved, dict) else {}
        return self._props_cache[logical_id]

    def physical_name(self, logical_id: str) -> str:
        if logical_id in self._names:
            return self._names[logical_id]
        if logical_id in self._resolving:
            raise TemplateError(f"circular reference while naming {logical_id}")
        rtype = self.resource_type(logical_id)
        prop = _NAME_PROPERTY.get(rtype)
        raw_props = self.resources[logical_id].get("Properties") or {}
        name: str | None = None
        self._resolving.add(logical_id)
        try:
            if prop and raw_props.get(prop) is not None:
                value = self.resolve(raw_props[prop])
                if value is not NO_VALUE:
                    name = str(value)
            if name is None:
                if rtype in FUNCTION_TYPES or rtype in LAYER_TYPES:
                    name = logical_id
                elif rtype == S3_BUCKET:
                    name = bucket_safe_name(default_physical_name(logical_id, self.stack_name))
                else:
                    name = default_physical_name(logical_id, self.stack_name)
                    if rtype == SQS_QUEUE and raw_props.get("FifoQueue") in (True, "true", "True"):
                        name += ".fifo"
        finally:
            self._resolving.discard(logical_id)
        self._names[logical_id] = name
        return name

    def arn(self, service: str, resource: str, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{PARTITION}:{service}:{self.region if region else ''}:{self.account_id if account else ''}:{resource}"
        )

    def queue_url(self, name: str) -> str:
        return f"{self.aws_endpoint}/{self.account_id}/{name}"

    def ref_resource(self, logical_id: str) -> Any:
        if logical_id not in self.resources:
            if logical_id.startswith("ServerlessRestApi"):
                return "localapi"
            log.debug("Ref to unknown resource %s -> fake value", logical_id)
            return default_physical_name(logical_id, self.stack_name)
        rtype = self.resource_type(logical_id)
        name = self.physical_name(logical_id)
        if rtype == SQS_QUEUE:
            return self.queue_url(name)
        if rtype in STATE_MACHINE_TYPES:
            return self.arn("states", f"stateMachine:{name}")
        if rtype == SNS_TOPIC:
            return self.arn("sns", name)
        if rtype in LAYER_TYPES:
            return self.arn("lambda", f"layer:{name}:1")
        return name

    def get_att(self, logical_id: str, attr: str) -> Any:
        if logical_id not in self.resources:
            log.debug("GetAtt on unknown resource %s.%s -> fake value", logical_id, attr)
            return self.arn("localcloud", f"{logical_id}/{attr}")
        rtype = self.resource_type(logical_id)
        name = self.physical_name(logical_id)
        table: dict[str, Any] = {}
        if rtype == SQS_QUEUE:
            table = {"Arn": self.arn("sqs", name), "QueueName": name, "QueueUrl": self.queue_url(name)}
        elif rtype in (DDB_TABLE, SAM_SIMPLE_TABLE):
            arn = self.arn("dynamodb", f"table/{name}")
            table = {"Arn": arn, "StreamArn": f"{arn}/stream/1970-01-01T00:00:00.000"}
        elif rtype == S3_BUCKET:
            table = {
                "Arn": f"arn:{PARTITION}:s3:::{name}",
                "DomainName": f"{name}.s3.{URL_SUFFIX}",
                "DualStackDomainName": f"{name}.s3.dualstack.{self.region}.{URL_SUFFIX}",
                "RegionalDomainName": f"{name}.s3.{self.region}.{URL_SUFFIX}",
                "WebsiteURL": f"http://{name}.s3-website-{self.region}.{URL_SUFFIX}",
            }
        elif rtype in FUNCTION_TYPES:
            table = {"Arn": self.arn("lambda", f"function:{name}")}
        elif rtype in STATE_MACHINE_TYPES:
            table = {"Arn": self.arn("states", f"stateMachine:{name}"), "Name": name}
        elif rtype == EVENT_BUS:
            table = {"Arn": self.arn("events", f"event-bus/{name}"), "Name": name}
        elif rtype == EVENT_RULE:
            # A rule on a custom bus: arn:aws:events:{region}:{account}:rule/{bus}/{rule}.
            bus = self.resolve((self.resources[logical_id].get("Properties") or {}).get("EventBusName", "default"))
            path = f"rule/{name}" if bus in ("default", None) else f"rule/{bus}/{name}"
            table = {"Arn": self.arn("events", path)}
        elif rtype == SNS_TOPIC:
            table = {"TopicArn": self.arn("sns", name), "TopicName": name}
        elif rtype in LAYER_TYPES:
            table = {"Arn": self.arn("lambda", f"layer:{name}:1")}
        elif rtype == IAM_ROLE:
            table = {"Arn": self.arn("iam", f"role/{name}", region=False), "RoleId": f"AROA{name.upper()[:16]}"}
        if attr in table:
            return table[attr]
        if table:
            log.debug("unsupported attribute %s.%s -> fake value", logical_id, attr)
        return self.arn("localcloud", f"{logical_id}/{attr}")

    # -- intrinsic resolution ---------------------------------------------- #

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.arn("cloudformation", f"stack/{self.stack_name}/00000000-0000-0000-0000-000000000000"),
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": URL_SUFFIX,
            "AWS::NotificationARNs": [],
        }
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        return self.ref_resource(name)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if _is_intrinsic(value):
                key, arg = next(iter(value.items()))
                return self._intrinsic(key, arg)
            out: dict[str, Any] = {}
            for k, v in value.items():
                rv = self.resolve(v)
                if rv is not NO_VALUE:
                    out[k] = rv
            return out
        if isinstance(value, list):
            return [rv for rv in (self.resolve(v) for v in value) if rv is not NO_VALUE]
        return value

    def _intrinsic(self, key: str, arg: Any) -> Any:
        if key == "Ref":
            return self.ref(str(self.resolve(arg)))
        if key == "Condition":
            return self.condition(arg)
        fn = key[len("Fn::") :]
        if fn == "GetAtt":
            if isinstance(arg, str):
                arg = arg.split(".", 1)
            lid, attr = (str(self.resolve(a)) for a in arg)
            return self.get_att(lid, attr)
        if fn == "Sub":
            return self._sub(arg)
        if fn == "Join":
            delim, items = arg
            items = self.resolve(items)
            return str(delim).join(to_env_string(i) for i in items)
        if fn == "If":
            cond, a, b = arg
            return self.resolve(a if self.condition(cond) else b)
        if fn == "Select":
            idx, items = arg
            items = self.resolve(items)
            return items[int(self.resolve(idx))]
        if fn == "Split":
            delim, src = arg
            return str(self.resolve(src)).split(str(delim))
        if fn == "Equals":
            a, b = (self.resolve(x) for x in arg)
            return _scalar_eq(a, b)
        if fn == "Not":
            return not bool(self.resolve(arg[0] if isinstance(arg, list) else arg))
        if fn == "And":
            return all(bool(self.resolve(x)) for x in arg)
        if fn == "Or":
            return any(bool(self.resolve(x)) for x in arg)
        if fn == "FindInMap":
            return self._find_in_map(arg)
        if fn == "ImportValue":
            return f"imported-{self.resolve(arg)}"
        if fn == "Base64":
            return base64.b64encode(to_env_string(self.resolve(arg)).encode()).decode()
        if fn == "GetAZs":
            return [f"{self.region}{z}" for z in "abc"]
        if fn == "Cidr":
            _block, count, _bits = (self.resolve(a) for a in arg)
            return [f"10.0.{i}.0/24" for i in range(int(count))]
        if fn == "ToJsonString":
            return json.dumps(self.resolve(arg), separators=(",", ":"))
        if fn == "Length":
            return len(self.resolve(arg))
        if fn == "Transform":
            log.debug("Fn::Transform ignored")
            return NO_VALUE
        raise TemplateError(f"unsupported intrinsic {key}")

    def _find_in_map(self, arg: list[Any]) -> Any:
        map_name, top, second = (self.resolve(a) for a in arg[:3])
        try:
            return self.mappings[map_name][top][second]
        except KeyError:
            if len(arg) > 3 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                return self.resolve(arg[3]["DefaultValue"])
            raise TemplateError(f"Fn::FindInMap: {map_name}/{top}/{second} not found") from None

    _SUB_RE = re.compile(r"\$\{([^}]*)\}")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], dict(arg[1]) if len(arg) > 1 else {}
        else:
            text, variables = arg, {}
        resolved_vars = {k: self.resolve(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            expr = match.group(1)
            if expr.startswith("!"):
                return "${" + expr[1:] + "}"
            expr = expr.strip()
            if expr in resolved_vars:
                return to_env_string(resolved_vars[expr])
            if "." in expr and not expr.startswith("AWS::"):
                lid, attr = expr.split(".", 1)
                if lid in self.resources:
                    return to_env_string(self.get_att(lid, attr))
            value = self.ref(expr)
            if isinstance(value, list):
                return ",".join(to_env_string(v) for v in value)
            return to_env_string(value)

        return self._SUB_RE.sub(replace, str(text))

    # -- functions / layers ------------------------------------------------ #

    def functions(self) -> list[FunctionSpec]:
        specs: list[FunctionSpec] = []
        for lid in self.logical_ids(SAM_FUNCTION):
            props = self.properties(lid)
            if props.get("PackageType", "Zip") != "Zip":
                log.warning("function %s: PackageType %s not supported locally; skipped", lid, props.get("PackageType"))
                continue
            runtime = str(props.get("Runtime", "python3.11"))
            if not runtime.startswith("python"):
                log.warning("function %s: runtime %s not supported locally; skipped", lid, runtime)
                continue
            code_uri = props.get("CodeUri", ".")
            if not isinstance(code_uri, str):
                log.warning("function %s: non-local CodeUri %r not supported; skipped", lid, code_uri)
                continue
            handler = props.get("Handler")
            if not handler or "." not in str(handler):
                raise TemplateError(f"function {lid}: invalid Handler {handler!r}")
            env = ((props.get("Environment") or {}).get("Variables")) or {}
            events = [
                EventSpec(name=ev_name, type=str(ev.get("Type")), properties=ev.get("Properties") or {})
                for ev_name, ev in (props.get("Events") or {}).items()
            ]
            name = self.physical_name(lid)
            specs.append(
                FunctionSpec(
                    logical_id=lid,
                    name=name,
                    arn=self.arn("lambda", f"function:{name}"),
                    code_dir=(self.dir / code_uri).resolve(),
                    handler=str(handler),
                    runtime=runtime,
                    memory_size=int(props.get("MemorySize", 128)),
                    timeout=int(props.get("Timeout", 3)),
                    environment={str(k): to_env_string(v) for k, v in env.items()},
                    events=events,
                )
            )
        return specs

    def layer_dirs(self) -> list[Path]:
        """Local directories of every layer (and their ``python/`` subdir if any)."""
        dirs: list[Path] = []
        for lid in self.logical_ids(*LAYER_TYPES):
            props = self.properties(lid)
            uri = props.get("ContentUri") if self.resource_type(lid) == SAM_LAYER else props.get("Content")
            if not isinstance(uri, str):
                log.debug("layer %s: non-local content ignored", lid)
                continue
            base = (self.dir / uri).resolve()
            for candidate in (base / "python", base):
                if candidate.is_dir():
                    dirs.append(candidate)
        return dirs

    def iter_resources(self, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for lid in self.logical_ids(*types):
            yield lid, self.properties(lid)

    def env_value(self, name: str) -> str | None:
        """A variable from Globals/any function environment, resolved (first found)."""
        glob_env = ((self.globals_function.get("Environment") or {}).get("Variables")) or {}
        if name in glob_env:
            value = self.resolve(glob_env[name])
            return None if value is NO_VALUE else to_env_string(value)
        for fn in self.functions():
            if name in fn.environment:
                return fn.environment[name]
        return None
