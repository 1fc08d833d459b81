"""Resolve CloudFormation intrinsics (Ref, GetAtt, Sub, Join, If, ...) against the resources created locally.

Physical names are derived from the template: an explicit name property (``TableName``, ``QueueName``,
``FunctionName``, ...) when the template sets one, else the logical id (``InvoiceSyncQueue.fifo`` for a FIFO queue);
``physical_names`` can pin a name per logical id (tests whose code already fixed a table name at import).
ARNs use the local region and moto's account id; a Ref to the HTTP API resolves to a local API id whose
``https://<id>.execute-api...`` URLs are rewritten to the local gateway's URL (:meth:`Resolver.localize`).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from local.stack.template import API_TYPES, IMPLICIT_HTTP_API, Template

LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account
LOCAL_STACK_NAME = "blueclerk-local"
LOCAL_API_ID = "localapi"


class UnresolvedReference(LookupError):
    """An intrinsic points at something the local stack cannot provide (missing parameter, unknown attribute)."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()


@dataclass
class Physical:
    ref: Any
    attrs: dict[str, Any] = field(default_factory=dict)


class Resolver:
    def __init__(
        self,
        template: Template,
        *,
        moto_url: str,
        api_url: str,
        parameter_overrides: Mapping[str, str] | None = None,
        region: str = LOCAL_REGION,
        account_id: str = LOCAL_ACCOUNT_ID,
        stack_name: str = LOCAL_STACK_NAME,
        physical_names: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        self.moto_url = moto_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self.region = region
        self.account_id = account_id
        self.stack_name = stack_name
        self.parameter_overrides = dict(parameter_overrides or {})
        self.physical_names = dict(physical_names or {})  # logical id -> name, wins over the template's name
        self.pseudo: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        self._physical: dict[str, Physical] = {}
        self._resolving: set[str] = set()
        self.kms_key_ids: dict[str, str] = {}  # filled by the bootstrap when it creates (or finds) each key

    # -- public -------------------------------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic inside ``value``; ``AWS::NoValue`` entries are dropped."""
        out = self._resolve(value)
        return None if out is NO_VALUE else out

    def resolve_str(self, value: Any) -> str:
        out = self.resolve(value)
        if isinstance(out, bool):
            return "true" if out else "false"
        if isinstance(out, list):
            return ",".join(str(v) for v in out)
        return "" if out is None else str(out)

    def condition(self, name: str) -> bool:
        if name not in self.template.conditions:
            raise UnresolvedReference(f"unknown condition {name}")
        return bool(self._resolve(self.template.conditions[name]))

    def physical(self, logical_id: str) -> Physical:
        if logical_id not in self._physical:
            if logical_id in self._resolving:
                raise UnresolvedReference(f"circular reference while naming {logical_id}")
            self._resolving.add(logical_id)
            try:
                self._physical[logical_id] = self._name(logical_id)
            finally:
                self._resolving.discard(logical_id)
        return self._physical[logical_id]

    def record(self, logical_id: str, physical: Physical) -> None:
        """Replace the derived physical values with what the local AWS actually returned (e.g. a queue URL)."""
        self._physical[logical_id] = physical

    def parameter(self, name: str) -> Any:
        spec = self.template.parameters.get(name)
        if spec is None:
            raise UnresolvedReference(f"unknown parameter {name}")
        if name in self.parameter_overrides:
            raw: Any = self.parameter_overrides[name]
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            raise UnresolvedReference(f"parameter {name} has no default; pass parameter_overrides={{{name!r}: ...}}")
        ptype = str(spec.get("Type", "String"))
        if ptype == "CommaDelimitedList" or ptype.startswith("List<"):
            return [v.strip() for v in raw.split(",")] if isinstance(raw, str) else list(raw)
        return raw if isinstance(raw, str) else json.dumps(raw) if isinstance(raw, (dict, list)) else str(raw)

    def localize(self, value: str) -> str:
        """``https://<local api id>.execute-api.<region>.amazonaws.com[/...]`` -> the local gateway URL."""
        return re.sub(rf"https://{LOCAL_API_ID}\.execute-api\.[A-Za-z0-9.-]+", self.api_url, value)

    # -- naming -------------------------------------------------------------------------------------------------------
    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"

    def _name(self, lid: str) -> Physical:
        if lid == IMPLICIT_HTTP_API and lid not in self.template.resources:
            return Physical(LOCAL_API_ID, {"ApiEndpoint": self.api_url, "ApiId": LOCAL_API_ID})
        if lid not in self.template.resources:
            raise UnresolvedReference(f"unknown resource {lid}")
        res = self.template.resources[lid]
        rtype = res.get("Type", "")
        props = res.get("Properties") or {}

        def prop_name(key: str, default: str) -> str:
            if lid in self.physical_names:
                return self.physical_names[lid]
            return self.resolve_str(props[key]) if props.get(key) is not None else default

        if rtype == "AWS::DynamoDB::Table":
            name = prop_name("TableName", lid)
            arn = self._arn("dynamodb", f"table/{name}")
            return Physical(name, {"Arn": arn, "StreamArn": f"{arn}/stream/local"})
        if rtype == "AWS::SQS::Queue":
            fifo = str(self.resolve(props.get("FifoQueue", False))).lower() == "true"
            name = prop_name("QueueName", f"{lid}.fifo" if fifo else lid)
            url = f"{self.moto_url}/{self.account_id}/{name}"
            return Physical(url, {"Arn": self._arn("sqs", name), "QueueName": name, "QueueUrl": url})
        if rtype == "AWS::KMS::Key":
            key_id = self.kms_key_ids.get(lid)
            if key_id is None:
                raise UnresolvedReference(f"KMS key {lid} has not been created yet")
            return Physical(key_id, {"Arn": self._arn("kms", f"key/{key_id}"), "KeyId": key_id})
        if rtype == "AWS::KMS::Alias":
            return Physical(prop_name("AliasName", f"alias/{lid}"))
        if rtype in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            name = prop_name("FunctionName", lid)
            return Physical(name, {"Arn": self._arn("lambda", f"function:{name}")})
        if rtype in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            return Physical(self._arn("lambda", f"layer:{prop_name('LayerName', lid)}:1"))
        if rtype == "AWS::Logs::LogGroup":
            name = prop_name("LogGroupName", lid)
            return Physical(name, {"Arn": self._arn("logs", f"log-group:{name}:*")})
        if rtype in API_TYPES:
            return Physical(LOCAL_API_ID, {"ApiEndpoint": self.api_url, "ApiId": LOCAL_API_ID})
        if rtype == "AWS::IAM::ManagedPolicy":
            return Physical(f"arn:aws:iam::{self.account_id}:policy/{prop_name('ManagedPolicyName', lid)}")
        if rtype == "AWS::IAM::Role":
            name = prop_name("RoleName", lid)
            return Physical(name, {"Arn": f"arn:aws:iam::{self.account_id}:role/{name}", "RoleId": name})
        if rtype == "AWS::SNS::Topic":
            name = prop_name("TopicName", lid)
            arn = self._arn("sns", name)
            return Physical(arn, {"TopicArn": arn, "TopicName": name})
        return Physical(lid, {"Arn": self._arn("local", lid)})

    # -- intrinsics ---------------------------------------------------------------------------------------------------
    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            key, arg = next(iter(value.items()))
            fn = self._INTRINSICS.get(key)
            if fn is not None:
                return fn(self, arg)
        out: dict[str, Any] = {}
        for k, v in value.items():
            r = self._resolve(v)
            if r is not NO_VALUE:
                out[k] = r
        return out

    def _ref(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.template.parameters:
            return self.parameter(name)
        return self.physical(name).ref

    def _get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        lid, attr = self._resolve(arg[0]), self._resolve(arg[1])
        attrs = self.physical(lid).attrs
        if attr not in attrs:
            raise UnresolvedReference(f"{lid}.{attr} is not available locally")
        return attrs[attr]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1] if len(arg) > 1 else {})
        resolved_vars = {k: self._resolve(v) for k, v in variables.items()}

        def repl(m: re.Match[str]) -> str:
            inner = m.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"
            if inner in resolved_vars:
                return _as_text(resolved_vars[inner])
            if "." in inner and inner not in self.pseudo:
                lid, attr = inner.split(".", 1)
                return _as_text(self._get_att([lid, attr]))
            return _as_text(self._ref(inner))

        return re.sub(r"\$\{([^}]+)\}", repl, text)

    def _join(self, arg: Any) -> str:
        delimiter, items = arg
        return str(delimiter).join(_as_text(v) for v in self._resolve(items))

    def _select(self, arg: Any) -> Any:
        index, items = arg
        return self._resolve(items)[int(self._resolve(index))]

    def _split(self, arg: Any) -> list[str]:
        delimiter, text = arg
        return str(self._resolve(text)).split(str(delimiter))

    def _if(self, arg: Any) -> Any:
        name, when_true, when_false = arg
        return self._resolve(when_true if self.condition(name) else when_false)

    def _equals(self, arg: Any) -> bool:
        a, b = (self._resolve(v) for v in arg)
        return _as_text(a) == _as_text(b)

    def _find_in_map(self, arg: Any) -> Any:
        mapping, top, second = (self._resolve(v) for v in arg)
        return (self.template.data.get("Mappings") or {})[mapping][top][second]

    def _import_value(self, arg: Any) -> Any:
        raise UnresolvedReference(f"Fn::ImportValue {arg!r}: cross-stack imports do not exist locally")

    _INTRINSICS: ClassVar[dict[str, Callable[[Resolver, Any], Any]]] = {
        "Ref": lambda self, a: self._ref(a),
        "Fn::GetAtt": lambda self, a: self._get_att(a),
        "Fn::Sub": lambda self, a: self._sub(a),
        "Fn::Join": lambda self, a: self._join(a),
        "Fn::Select": lambda self, a: self._select(a),
        "Fn::Split": lambda self, a: self._split(a),
        "Fn::If": lambda self, a: self._if(a),
        "Fn::Equals": lambda self, a: self._equals(a),
        "Fn::Not": lambda self, a: not self._resolve(a[0]),
        "Fn::And": lambda self, a: all(self._resolve(v) for v in a),
        "Fn::Or": lambda self, a: any(self._resolve(v) for v in a),
        "Condition": lambda self, a: self.condition(a),
        "Fn::FindInMap": lambda self, a: self._find_in_map(a),
        "Fn::Base64": lambda self, a: base64.b64encode(str(self._resolve(a)).encode()).decode(),
        "Fn::GetAZs": lambda self, a: [f"{self.region}{z}" for z in "abc"],
        "Fn::ToJsonString": lambda self, a: json.dumps(self._resolve(a), separators=(",", ":")),
        "Fn::ImportValue": lambda self, a: self._import_value(a),
    }


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_as_text(v) for v in value)
    return str(value)
