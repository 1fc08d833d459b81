"""Read ``template.yaml``: a YAML loader for CloudFormation short-form tags and a small model of what the local stack
needs from it (functions with SAM Globals merged, HTTP routes, SQS event sources, schedules).

Everything the local stack creates or wires comes from here; there is no second, hand-kept list of resources.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"

FUNCTION_TYPES = {"AWS::Serverless::Function", "AWS::Lambda::Function"}
API_TYPES = {"AWS::ApiGatewayV2::Api", "AWS::Serverless::HttpApi"}
IMPLICIT_HTTP_API = "ServerlessHttpApi"  # SAM's implicit API for HttpApi events without ApiId


# ---------------------------------------------------------------------------------------------------------------------
# YAML with CloudFormation tags
# ---------------------------------------------------------------------------------------------------------------------
class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns ``!Ref X`` into ``{"Ref": "X"}``, ``!GetAtt A.B`` into ``{"Fn::GetAtt": ["A", "B"]}``,
    ``!Condition C`` into ``{"Condition": "C"}`` and every other ``!Name v`` into ``{"Fn::Name": v}``."""


def _construct_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_yaml(path: str | Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=CfnLoader)  # CfnLoader is a SafeLoader
    if not isinstance(data, dict) or "Resources" not in data:
        raise ValueError(f"{path} is not a CloudFormation template (no Resources)")
    return data


# ---------------------------------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    properties: dict[str, Any]  # with SAM Globals.Function merged in (unresolved intrinsics)

    @property
    def code_uri(self) -> str:
        return str(self.properties.get("CodeUri", "."))

    @property
    def handler(self) -> str:
        return str(self.properties["Handler"])

    @property
    def timeout(self) -> int:
        return int(self.properties.get("Timeout", 3))

    @property
    def memory_size(self) -> int:
        return int(self.properties.get("MemorySize", 128))

    @property
    def environment(self) -> dict[str, Any]:
        return dict((self.properties.get("Environment") or {}).get("Variables") or {})

    @property
    def events(self) -> dict[str, dict[str, Any]]:
        return dict(self.properties.get("Events") or {})

    @property
    def layers(self) -> list[Any]:
        return list(self.properties.get("Layers") or [])

    @property
    def module(self) -> str:
        """Dotted module of the handler as the tests import it, e.g. ``functions.api.app``."""
        module_file = self.handler.rpartition(".")[0]
        parts = [p for p in Path(self.code_uri).parts if p not in (".", "")]
        return ".".join([*parts, *module_file.split("/")])

    @property
    def handler_attr(self) -> str:
        return self.handler.rpartition(".")[2]


@dataclass(frozen=True)
class HttpRoute:
    method: str  # GET, POST, ..., or ANY
    path: str  # /invoices/{id}, /{proxy+} or $default
    function_id: str
    auth: str  # "JWT" or "NONE"
    api_id: str  # logical id of the API

    @property
    def route_key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsEventSource:
    function_id: str
    event_name: str
    queue: Any  # intrinsic, usually {"Fn::GetAtt": [Queue, "Arn"]}
    batch_size: int
    report_batch_item_failures: bool
    enabled: bool

    @property
    def queue_logical_id(self) -> str | None:
        return referenced_logical_id(self.queue)


@dataclass(frozen=True)
class ScheduleSpec:
    function_id: str
    event_name: str
    properties: dict[str, Any]  # unresolved ScheduleV2 properties

    @property
    def default_name(self) -> str:
        """SAM names the generated AWS::Scheduler::Schedule after its logical id (function id + event name)."""
        return f"{self.function_id}{self.event_name}"


@dataclass
class Template:
    path: Path
    data: dict[str, Any]
    _functions: dict[str, FunctionSpec] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Template:
        p = Path(path or DEFAULT_TEMPLATE).resolve()
        return cls(path=p, data=load_yaml(p))

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.data["Resources"]

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return self.data.get("Parameters") or {}

    @property
    def conditions(self) -> dict[str, Any]:
        return self.data.get("Conditions") or {}

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        return self.data.get("Outputs") or {}

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res.get("Type") in types}

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id].get("Properties") or {}

    # -- functions ------------------------------------------------------------------------------------------------
    def functions(self) -> dict[str, FunctionSpec]:
        if not self._functions:
            globals_fn = ((self.data.get("Globals") or {}).get("Function")) or {}
            for lid, res in self.of_type(*FUNCTION_TYPES).items():
                props = res.get("Properties") or {}
                if res["Type"] == "AWS::Serverless::Function":
                    props = merge_sam_globals(globals_fn, props)
                self._functions[lid] = FunctionSpec(lid, props)
        return self._functions

    def function_for_arn_ref(self, value: Any) -> str | None:
        """Logical id of the function an intrinsic (``!GetAtt Fn.Arn``, ``!Sub ...${Fn.Arn}...``) points at."""
        for lid in _all_referenced_ids(value):
            if lid in self.functions():
                return lid
        return None

    # -- HTTP API ---------------------------------------------------------------------------------------------------
    def http_routes(self) -> list[HttpRoute]:
        """Routes of every HTTP API: AWS::ApiGatewayV2::Route resources and SAM ``HttpApi`` function events."""
        routes: list[HttpRoute] = []
        integrations = self.of_type("AWS::ApiGatewayV2::Integration")
        for lid, res in self.of_type("AWS::ApiGatewayV2::Route").items():
            props = res.get("Properties") or {}
            target_ids = _all_referenced_ids(props.get("Target"))
            integration_id = next((t for t in target_ids if t in integrations), None)
            if integration_id is None:
                raise ValueError(f"route {lid}: Target does not reference an AWS::ApiGatewayV2::Integration")
            function_id = self.function_for_arn_ref(self.properties(integration_id).get("IntegrationUri"))
            if function_id is None:
                raise ValueError(f"route {lid}: integration {integration_id} does not target a function")
            route_key = str(props["RouteKey"])
            method, path = ("ANY", "$default") if route_key == "$default" else route_key.split(" ", 1)
            auth = str(props.get("AuthorizationType", "NONE")).upper()
            api_id = referenced_logical_id(props["ApiId"]) or ""
            routes.append(HttpRoute(method.upper(), path, function_id, auth, api_id))
        for fid, fn in self.functions().items():
            for _name, event in fn.events.items():
                if event.get("Type") != "HttpApi":
                    continue
                ev = event.get("Properties") or {}
                api_id = referenced_logical_id(ev.get("ApiId")) or IMPLICIT_HTTP_API
                path = str(ev.get("Path", "$default"))
                method = str(ev.get("Method", "ANY")).upper()
                routes.append(HttpRoute(method, path, fid, self._sam_event_auth(api_id, ev), api_id))
        return routes

    def _sam_event_auth(self, api_id: str, event_props: dict[str, Any]) -> str:
        authorizer = (event_props.get("Auth") or {}).get("Authorizer")
        if authorizer is None:
            api = self.resources.get(api_id, {}).get("Properties") or {}
            globals_api = ((self.data.get("Globals") or {}).get("HttpApi")) or {}
            authorizer = (api.get("Auth") or globals_api.get("Auth") or {}).get("DefaultAuthorizer")
        return "NONE" if authorizer in (None, "NONE", "AWS_IAM") else "JWT"

    def cors_configuration(self) -> dict[str, Any] | None:
        for _lid, res in self.of_type(*API_TYPES).items():
            props = res.get("Properties") or {}
            cors = props.get("CorsConfiguration")
            if cors:
                return cors if isinstance(cors, dict) else {"AllowOrigins": ["*"]}
        return None

    # -- queues and schedules -----------------------------------------------------------------------------------------
    def sqs_event_sources(self) -> list[SqsEventSource]:
        sources: list[SqsEventSource] = []
        for fid, fn in self.functions().items():
            for name, event in fn.events.items():
                if event.get("Type") != "SQS":
                    continue
                ev = event.get("Properties") or {}
                sources.append(
                    SqsEventSource(
                        function_id=fid,
                        event_name=name,
                        queue=ev["Queue"],
                        batch_size=int(ev.get("BatchSize", 10)),
                        report_batch_item_failures="ReportBatchItemFailures" in (ev.get("FunctionResponseTypes") or []),
                        enabled=bool(ev.get("Enabled", True)),
                    )
                )
        for lid, res in self.of_type("AWS::Lambda::EventSourceMapping").items():
            props = res.get("Properties") or {}
            target = [i for i in _all_referenced_ids(props.get("FunctionName")) if i in self.functions()]
            queue_id = referenced_logical_id(props.get("EventSourceArn"))
            if target and queue_id and self.resources.get(queue_id, {}).get("Type") == "AWS::SQS::Queue":
                sources.append(
                    SqsEventSource(
                        function_id=target[0],
                        event_name=lid,
                        queue=props["EventSourceArn"],
                        batch_size=int(props.get("BatchSize", 10)),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in (props.get("FunctionResponseTypes") or []),
                        enabled=bool(props.get("Enabled", True)),
                    )
                )
        return sources

    def schedules(self) -> list[ScheduleSpec]:
        out: list[ScheduleSpec] = []
        for fid, fn in self.functions().items():
            for name, event in fn.events.items():
                if event.get("Type") == "ScheduleV2":
                    out.append(ScheduleSpec(fid, name, dict(event.get("Properties") or {})))
        return out

    def queues(self) -> dict[str, dict[str, Any]]:
        return self.of_type("AWS::SQS::Queue")

    def redrive_sources(self) -> dict[str, list[str]]:
        """DLQ logical id -> logical ids of the queues that redrive into it."""
        out: dict[str, list[str]] = {}
        for lid, res in self.queues().items():
            redrive = (res.get("Properties") or {}).get("RedrivePolicy")
            if redrive:
                dlq = referenced_logical_id(redrive.get("deadLetterTargetArn"))
                if dlq:
                    out.setdefault(dlq, []).append(lid)
        return out


def merge_sam_globals(globals_fn: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """SAM's Globals rules: maps merge (function wins), lists concatenate (globals first), scalars are replaced."""
    merged = copy.deepcopy(globals_fn)
    for key, value in props.items():
        if key in merged and isinstance(merged[key], dict) and isinstance(value, dict) and not _is_intrinsic(value):
            merged[key] = _merge_maps(merged[key], value)
        elif key in merged and isinstance(merged[key], list) and isinstance(value, list):
            merged[key] = merged[key] + value
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _merge_maps(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key in out and isinstance(out[key], dict) and isinstance(value, dict) and not _is_intrinsic(value):
            out[key] = _merge_maps(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _is_intrinsic(value: Any) -> bool:
    if not (isinstance(value, dict) and len(value) == 1):
        return False
    key = str(next(iter(value)))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def referenced_logical_id(value: Any) -> str | None:
    """``!Ref X`` / ``!GetAtt X.Attr`` -> ``X``; anything else -> None."""
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"]
        if "Fn::GetAtt" in value:
            att = value["Fn::GetAtt"]
            return str(att[0]) if isinstance(att, list) else str(att).partition(".")[0]
    return None


def _all_referenced_ids(value: Any) -> list[str]:
    """Every logical id an intrinsic refers to (Ref, GetAtt, ``${X}`` / ``${X.Attr}`` inside Sub), in order."""
    import re

    found: list[str] = []
    if isinstance(value, dict):
        direct = referenced_logical_id(value)
        if direct:
            found.append(direct)
        if "Fn::Sub" in value:
            sub = value["Fn::Sub"]
            text = sub if isinstance(sub, str) else sub[0]
            found.extend(m.group(1).split(".")[0] for m in re.finditer(r"\$\{([^!}][^}]*)\}", text))
        for v in value.values():
            if not isinstance(v, str):
                found.extend(_all_referenced_ids(v))
    elif isinstance(value, list):
        for v in value:
            found.extend(_all_referenced_ids(v))
    return found
