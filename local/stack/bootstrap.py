"""Create the template's AWS resources in the AWS stand-in (moto server) and compute each function's environment.

Idempotent: every resource is looked up first and only created when missing (queues get their attributes re-applied,
schedules are updated), so running it against an already bootstrapped server returns the same map.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from local.stack.resolver import Physical, Resolver, UnresolvedReference
from local.stack.template import FunctionSpec, Template, referenced_logical_id

log = logging.getLogger("local.stack")

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
KMS_LOGICAL_ID_TAG = "local:logical-id"
DEFAULT_SANDBOX_URL = "http://127.0.0.1:4010"

# SQS queue properties in CloudFormation that are queue attributes of the same name.
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)


@dataclass
class StackState:
    """What the bootstrap created and how the functions are configured."""

    resources: dict[str, dict[str, Any]]  # logical id -> {"type", "name", "arn", "url", ...}
    template_env: dict[str, dict[str, str]]  # logical id -> template environment (Globals + function), resolved
    function_env: dict[str, dict[str, str]]  # logical id -> template_env + the local settings (what it should get)
    env: dict[str, str]  # what the local process gets: the union of function_env (one process runs them all)
    outputs: dict[str, str] = field(default_factory=dict)


def aws_client(service: str, endpoint_url: str, region: str) -> Any:
    """A boto3 client for the stand-in, with dummy credentials whatever the shell has configured."""
    session = boto3.session.Session(
        aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=region,
    )
    return session.client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]


class Bootstrap:
    def __init__(self, template: Template, resolver: Resolver) -> None:
        self.template = template
        self.resolver = resolver
        self.region = resolver.region
        self.endpoint = resolver.moto_url
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = aws_client(service, self.endpoint, self.region)
        return self._clients[service]

    # -- orchestration ------------------------------------------------------------------------------------------------
    def run(
        self,
        *,
        sandbox_url: str | None = None,
        sandbox_env: Mapping[str, str] | None = None,
        base_env: Mapping[str, str] | None = None,
    ) -> StackState:
        resources: dict[str, dict[str, Any]] = {}
        for lid in self._active("AWS::KMS::Key"):
            resources[lid] = self.ensure_kms_key(lid)
        for lid in self._active("AWS::DynamoDB::Table"):
            resources[lid] = self.ensure_table(lid)
        for lid in self._queue_order():
            resources[lid] = self.ensure_queue(lid)
        for lid in self._active("AWS::KMS::Alias"):
            resources[lid] = self.ensure_alias(lid)
        for fid in self.template.functions():
            if self._is_active(fid):
                phys = self.resolver.physical(fid)
                fn = self.template.functions()[fid]
                resources[fid] = {
                    "type": self.template.resources[fid]["Type"],
                    "name": phys.ref,
                    "arn": phys.attrs["Arn"],
                    "module": fn.module,
                    "handler": fn.handler,
                }
        for schedule in self.template.schedules():
            resources[f"{schedule.function_id}{schedule.event_name}"] = self.ensure_schedule(schedule)
        for lid in self._active("AWS::ApiGatewayV2::Api", "AWS::Serverless::HttpApi"):
            resources[lid] = {"type": self.template.resources[lid]["Type"], "url": self.resolver.api_url}

        template_env = {
            fid: self.function_environment(fn) for fid, fn in self.template.functions().items() if self._is_active(fid)
        }

        def with_local(envs: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
            return local_environment(
                envs,
                moto_url=self.endpoint,
                region=self.region,
                sandbox_url=sandbox_url or DEFAULT_SANDBOX_URL,
                sandbox_env=sandbox_env,
                base_env=base_env,
            )

        function_env = {fid: with_local({fid: fenv}) for fid, fenv in template_env.items()}
        env = with_local(template_env)
        self.ensure_client_secrets(env)
        return StackState(
            resources=resources,
            template_env=template_env,
            function_env=function_env,
            env=env,
            outputs=self.outputs(),
        )

    def _is_active(self, lid: str) -> bool:
        condition = self.template.resources[lid].get("Condition")
        return condition is None or self.resolver.condition(condition)

    def _active(self, *types: str) -> list[str]:
        return [lid for lid in self.template.of_type(*types) if self._is_active(lid)]

    def _queue_order(self) -> list[str]:
        """Dead-letter targets before the queues that redrive into them."""
        pending = self._active("AWS::SQS::Queue")
        ordered: list[str] = []
        while pending:
            progressed = False
            for lid in list(pending):
                redrive = self.template.properties(lid).get("RedrivePolicy") or {}
                target = referenced_logical_id(redrive.get("deadLetterTargetArn"))
                if target is None or target in ordered or target not in pending:
                    ordered.append(lid)
                    pending.remove(lid)
                    progressed = True
            if not progressed:
                raise ValueError(f"queues redrive into each other: {pending}")
        return ordered

    # -- KMS ----------------------------------------------------------------------------------------------------------
    def ensure_kms_key(self, lid: str) -> dict[str, Any]:
        kms = self.client("kms")
        props = self.resolver.resolve(self.template.properties(lid))
        key_id = self._find_key(kms, lid)
        if key_id is None:
            key_id = kms.create_key(
                Description=props.get("Description", lid),
                KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
                KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
                Tags=[{"TagKey": KMS_LOGICAL_ID_TAG, "TagValue": lid}],
            )["KeyMetadata"]["KeyId"]
            if str(props.get("EnableKeyRotation", "false")).lower() == "true":
                kms.enable_key_rotation(KeyId=key_id)
        self.resolver.kms_key_ids[lid] = key_id
        phys = self.resolver.physical(lid)
        return {"type": "AWS::KMS::Key", "key_id": key_id, "arn": phys.attrs["Arn"]}

    @staticmethod
    def _find_key(kms: Any, lid: str) -> str | None:
        for page in kms.get_paginator("list_keys").paginate():
            for key in page["Keys"]:
                tags = kms.list_resource_tags(KeyId=key["KeyId"]).get("Tags", [])
                if {"TagKey": KMS_LOGICAL_ID_TAG, "TagValue": lid} in tags:
                    return str(key["KeyId"])
        return None

    def ensure_alias(self, lid: str) -> dict[str, Any]:
        kms = self.client("kms")
        props = self.resolver.resolve(self.template.properties(lid))
        name, target = props["AliasName"], props["TargetKeyId"]
        existing = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
        if name not in existing:
            kms.create_alias(AliasName=name, TargetKeyId=target)
        elif existing[name] != target:
            kms.update_alias(AliasName=name, TargetKeyId=target)
        return {"type": "AWS::KMS::Alias", "name": name, "target_key_id": target}

    # -- DynamoDB -----------------------------------------------------------------------------------------------------
    def ensure_table(self, lid: str) -> dict[str, Any]:
        ddb = self.client("dynamodb")
        props = self.resolver.resolve(self.template.properties(lid))
        phys = self.resolver.physical(lid)
        name = phys.ref
        try:
            ddb.describe_table(TableName=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            ddb.create_table(**_create_table_params(name, props))
        ttl = props.get("TimeToLiveSpecification")
        if ttl and str(ttl.get("Enabled")).lower() == "true":
            status = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if status.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                ddb.update_time_to_live(
                    TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
                )
        pitr = (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
        if str(pitr).lower() == "true":
            ddb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        return {"type": "AWS::DynamoDB::Table", "name": name, "arn": phys.attrs["Arn"]}

    # -- SQS ----------------------------------------------------------------------------------------------------------
    def ensure_queue(self, lid: str) -> dict[str, Any]:
        sqs = self.client("sqs")
        props = self.resolver.resolve(self.template.properties(lid))
        phys = self.resolver.physical(lid)
        name = phys.attrs["QueueName"]
        attributes = {k: _attr_text(props[k]) for k in _QUEUE_ATTRIBUTES if k in props}
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            sqs.set_queue_attributes(QueueUrl=url, Attributes={k: v for k, v in attributes.items() if k != "FifoQueue"})
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
                raise
            tags = {t["Key"]: t["Value"] for t in props.get("Tags") or []}
            extra = {"tags": tags} if tags else {}
            url = sqs.create_queue(QueueName=name, Attributes=attributes, **extra)["QueueUrl"]
        arn = phys.attrs["Arn"]
        self.resolver.record(lid, Physical(url, {"Arn": arn, "QueueName": name, "QueueUrl": url}))
        redrive = props.get("RedrivePolicy") or {}
        return {
            "type": "AWS::SQS::Queue",
            "name": name,
            "url": url,
            "arn": arn,
            "fifo": str(props.get("FifoQueue", False)).lower() == "true",
            "dlq": referenced_logical_id(
                (self.template.properties(lid).get("RedrivePolicy") or {}).get("deadLetterTargetArn")
            ),
            "max_receive_count": int(redrive["maxReceiveCount"]) if redrive else None,
        }

    # -- EventBridge Scheduler ----------------------------------------------------------------------------------------
    def ensure_schedule(self, schedule: Any) -> dict[str, Any]:
        scheduler = self.client("scheduler")
        props = self.resolver.resolve(schedule.properties)
        name = props.get("Name") or schedule.default_name
        group = props.get("GroupName") or "default"
        function_arn = self.resolver.physical(schedule.function_id).attrs["Arn"]
        target: dict[str, Any] = {
            "Arn": function_arn,
            "RoleArn": f"arn:aws:iam::{self.resolver.account_id}:role/{schedule.default_name}Role",
        }
        if props.get("Input") is not None:
            raw = props["Input"]
            target["Input"] = raw if isinstance(raw, str) else json.dumps(raw)
        if props.get("RetryPolicy"):
            target["RetryPolicy"] = {k: int(v) for k, v in props["RetryPolicy"].items()}
        if (props.get("DeadLetterConfig") or {}).get("Arn"):
            target["DeadLetterConfig"] = {"Arn": props["DeadLetterConfig"]["Arn"]}
        params: dict[str, Any] = {
            "Name": name,
            "GroupName": group,
            "ScheduleExpression": props["ScheduleExpression"],
            "FlexibleTimeWindow": props.get("FlexibleTimeWindow") or {"Mode": "OFF"},
            "State": props.get("State", "ENABLED"),
            "Target": target,
        }
        for key in ("ScheduleExpressionTimezone", "Description", "StartDate", "EndDate"):
            if props.get(key) is not None:
                params[key] = props[key]
        try:
            scheduler.get_schedule(Name=name, GroupName=group)
            arn = scheduler.update_schedule(**params)["ScheduleArn"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            arn = scheduler.create_schedule(**params)["ScheduleArn"]
        return {
            "type": "AWS::Scheduler::Schedule",
            "name": name,
            "group": group,
            "arn": arn,
            "expression": params["ScheduleExpression"],
            "timezone": params.get("ScheduleExpressionTimezone"),
            "target_function": schedule.function_id,
            "target_arn": function_arn,
            "input": target.get("Input"),
        }

    # -- Secrets Manager ----------------------------------------------------------------------------------------------
    def ensure_client_secrets(self, env: Mapping[str, str]) -> None:
        """Put each ``<X>_CLIENT_SECRET`` value under the name in ``<X>_CLIENT_SECRET_NAME``, so the code path that
        reads secrets by name (the deployed one) works locally too."""
        sm = self.client("secretsmanager")
        for key, name in env.items():
            if not key.endswith("_CLIENT_SECRET_NAME") or not name:
                continue
            value = env.get(key.removesuffix("_NAME"))
            if not value:
                continue
            try:
                sm.put_secret_value(SecretId=name, SecretString=value)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                sm.create_secret(Name=name, SecretString=value)

    # -- environment and outputs --------------------------------------------------------------------------------------
    def function_environment(self, fn: FunctionSpec) -> dict[str, str]:
        return {k: self.resolver.localize(self.resolver.resolve_str(v)) for k, v in fn.environment.items()}

    def outputs(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, spec in self.template.outputs.items():
            try:
                out[name] = self.resolver.localize(self.resolver.resolve_str(spec["Value"]))
            except UnresolvedReference as exc:
                log.debug("output %s not available locally: %s", name, exc)
        return out


def _create_table_params(name: str, props: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
    }
    billing = props.get("BillingMode") or ("PROVISIONED" if props.get("ProvisionedThroughput") else "PAY_PER_REQUEST")
    params["BillingMode"] = billing
    if billing == "PROVISIONED":
        params["ProvisionedThroughput"] = {k: int(v) for k, v in props["ProvisionedThroughput"].items()}

    def index(spec: dict[str, Any]) -> dict[str, Any]:
        keep = {k: v for k, v in spec.items() if k in ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")}
        if billing != "PROVISIONED":
            keep.pop("ProvisionedThroughput", None)
        return keep

    if props.get("GlobalSecondaryIndexes"):
        params["GlobalSecondaryIndexes"] = [index(g) for g in props["GlobalSecondaryIndexes"]]
    if props.get("LocalSecondaryIndexes"):
        params["LocalSecondaryIndexes"] = [index(g) for g in props["LocalSecondaryIndexes"]]
    stream = props.get("StreamSpecification")
    if stream:
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
    sse = props.get("SSESpecification")
    if sse:
        params["SSESpecification"] = {"Enabled": str(sse.get("SSEEnabled")).lower() == "true"}
        for src, dst in (("SSEType", "SSEType"), ("KMSMasterKeyId", "KMSMasterKeyId")):
            if sse.get(src):
                params["SSESpecification"][dst] = sse[src]
    if props.get("TableClass"):
        params["TableClass"] = props["TableClass"]
    if props.get("Tags"):
        params["Tags"] = props["Tags"]
    return params


def _attr_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps({k: (int(v) if k == "maxReceiveCount" else v) for k, v in value.items()})
    return str(value)


# ---------------------------------------------------------------------------------------------------------------------
# Local environment
# ---------------------------------------------------------------------------------------------------------------------
def local_environment(
    function_env: Mapping[str, Mapping[str, str]],
    *,
    moto_url: str,
    region: str,
    sandbox_url: str,
    sandbox_env: Mapping[str, str] | None = None,
    base_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment the in-process handlers get.

    The union of every function's template environment (one name always has one value across functions), plus:
    AWS endpoint/credentials/region of the stand-in; provider endpoints at the sandbox and local client ids/secrets
    (what ``sandbox_env``, the sandbox itself, says; else derived: real path below ``<sandbox>/<provider>``,
    ``local-<provider>-client`` / ``local-<provider>-secret``), except where ``base_env`` (the process environment)
    already sets them (API.md: keep what is set).
    """
    import os

    base = dict(os.environ if base_env is None else base_env)
    env: dict[str, str] = {}
    for fid, fenv in function_env.items():
        for key, value in fenv.items():
            if key in env and env[key] != value:
                log.warning(
                    "env %s differs between functions (%s: %r); the local process uses %r", key, fid, value, env[key]
                )
            env.setdefault(key, value)
    env.update(DUMMY_CREDENTIALS)
    env.update({"AWS_ENDPOINT_URL": moto_url, "AWS_DEFAULT_REGION": region, "AWS_REGION": region})
    env["POWERTOOLS_TRACE_DISABLED"] = "true"  # no X-Ray daemon locally

    local = provider_environment(sandbox_url.rstrip("/"))
    for provider in _providers():
        prefix = provider.upper()
        local[f"{prefix}_CLIENT_ID"] = env.get(f"{prefix}_CLIENT_ID") or f"local-{provider}-client"
        local[f"{prefix}_CLIENT_SECRET"] = f"local-{provider}-secret"
    local.update(sandbox_env or {})
    for key, value in local.items():
        env[key] = base.get(key) or value
    if base.get("FRONTEND_URL"):
        env["FRONTEND_URL"] = base["FRONTEND_URL"]
    return env


def provider_environment(sandbox_url: str) -> dict[str, str]:
    """``{PROVIDER}_*_URL`` -> the sandbox: ``<sandbox>/<provider>`` + the real URL's path (API.md: "real paths below
    each prefix"), e.g. ``QUICKBOOKS_TOKEN_URL`` -> ``http://127.0.0.1:4010/quickbooks/oauth2/v1/tokens/bearer``."""
    from urllib.parse import urlsplit

    defaults = _provider_url_defaults()
    out: dict[str, str] = {}
    for key, real in defaults.items():
        provider = key.split("_", 1)[0].lower()
        path = urlsplit(real).path.rstrip("/") if key.endswith("_API_URL") else urlsplit(real).path
        out[key] = f"{sandbox_url}/{provider}{path}"
    return out


def _provider_url_defaults() -> dict[str, str]:
    try:
        from booksync.config import PROVIDER_URL_DEFAULTS
    except ImportError:  # a template of another project (tests): no providers
        return {}
    return dict(PROVIDER_URL_DEFAULTS)


def _providers() -> tuple[str, ...]:
    try:
        from booksync.config import PROVIDERS
    except ImportError:
        return ()
    return tuple(PROVIDERS)


def ensure_layer_paths(template: Template) -> list[str]:
    """Put the template root and every layer's content dir on ``sys.path`` (what Lambda does with ``/opt/python``).

    Returns the entries added, so a caller can take them out again."""
    added: list[str] = []
    paths = [str(template.root)]
    for lid, res in template.of_type("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion").items():
        props = res.get("Properties") or {}
        content = props.get("ContentUri") or (props.get("Content") or {}).get("S3Key")
        if isinstance(content, str):
            paths.append(str((template.root / content).resolve()))
        else:
            log.debug("layer %s has no local ContentUri", lid)
    for p in paths:
        if p not in sys.path:
            sys.path.insert(0, p)
            added.append(p)
    return added
