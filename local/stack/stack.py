"""``LocalStack``: the whole service on a laptop, in one process, built from ``template.yaml``.

    with LocalStack(api_port=0, moto_port=0, sandbox_port=0) as stack:
        httpx.get(f"{stack.api_url}/invoices", headers={"Authorization": f"Bearer {stack.token(company_id='c1')}"})
        stack.drain_queues(timeout=30)

See local/stack/README.md.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local.stack.bootstrap import Bootstrap, StackState, aws_client, ensure_layer_paths
from local.stack.gateway import Cors, JwtAuthorizer, create_gateway_app
from local.stack.invoke import FunctionRuntime
from local.stack.poller import QueuePoller
from local.stack.resolver import LOCAL_REGION, Resolver
from local.stack.servers import MotoServer, SandboxRunner, UvicornThread, bind_socket, sandbox_env
from local.stack.template import HttpRoute, Template

log = logging.getLogger("local.stack")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_API_PORT = 3000
DEFAULT_MOTO_PORT = 5000
DEFAULT_SANDBOX_PORT = 4010
DEFAULT_RETRY_DELAY = 1  # seconds before a failed SQS record is received again (Lambda: the queue's VisibilityTimeout)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dataclass
class ScheduleRun:
    schedule: str
    function_id: str
    event: Any
    result: Any = None
    error: BaseException | None = None


class LocalStack:
    """Moto server + bootstrap from the template + provider sandbox + local HTTP API + SQS pollers.

    Ports: ``0`` picks a free port (tests); ``None`` means ``LOCAL_API_PORT`` / ``LOCAL_MOTO_PORT`` /
    ``LOCAL_SANDBOX_PORT`` or 3000 / 5000 / 4010. The computed environment is put into ``os.environ`` while the stack
    runs (handlers run in this process) and restored on ``stop()``.
    """

    def __init__(
        self,
        template: str | Path | Template | None = None,
        *,
        host: str = DEFAULT_HOST,
        api_port: int | None = None,
        moto_port: int | None = None,
        sandbox_port: int | None = None,
        start_sandbox: bool = True,
        start_pollers: bool = True,
        retry_delay: int | None = None,
        parameter_overrides: Mapping[str, str] | None = None,
        jwt_secret: str | None = None,
        preload: bool = True,
        base_env: Mapping[str, str] | None = None,
        physical_names: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template if isinstance(template, Template) else Template.load(template)
        self.host = host
        self.api_port = _env_int("LOCAL_API_PORT", DEFAULT_API_PORT) if api_port is None else api_port
        self.moto_port = _env_int("LOCAL_MOTO_PORT", DEFAULT_MOTO_PORT) if moto_port is None else moto_port
        self.sandbox_port = (
            _env_int("LOCAL_SANDBOX_PORT", DEFAULT_SANDBOX_PORT) if sandbox_port is None else (sandbox_port)
        )
        self.start_sandbox = start_sandbox
        self.start_pollers = start_pollers
        self.retry_delay = (
            _env_int("LOCAL_SQS_RETRY_DELAY", DEFAULT_RETRY_DELAY) if retry_delay is None else (retry_delay)
        )
        self.parameter_overrides = dict(parameter_overrides or {})
        self.authorizer = JwtAuthorizer(jwt_secret)
        self.preload = preload
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.physical_names = dict(physical_names or {})

        self.region = LOCAL_REGION
        self.moto_url = ""
        self.api_url = ""
        self.sandbox_url: str | None = None
        self.state: StackState | None = None
        self.resolver: Resolver | None = None
        self.runtimes: dict[str, FunctionRuntime] = {}
        self.pollers: list[QueuePoller] = []
        self.started_in: float | None = None

        self._moto: MotoServer | None = None
        self._sandbox: SandboxRunner | None = None
        self._gateway: UvicornThread | None = None
        self._api_socket: socket.socket | None = None
        self._saved_env: dict[str, str | None] = {}
        self._added_paths: list[str] = []
        self._clients: dict[tuple[str, str], Any] = {}

    # -- lifecycle ----------------------------------------------------------------------------------------------------
    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        t0 = time.monotonic()
        try:
            self._moto = MotoServer(self.host, self.moto_port)
            self.moto_url = self._moto.start()
            if self.start_sandbox:
                self._sandbox = SandboxRunner(self.host, self.sandbox_port)
                self.sandbox_url = self._sandbox.start()
            self._api_socket = bind_socket(self.host, self.api_port)
            self.api_url = f"http://{self.host}:{self._api_socket.getsockname()[1]}"
            self.bootstrap()
            self._gateway = UvicornThread(self.gateway_app(), self._api_socket, name="gateway")
            self._gateway.start()
            if self.start_pollers:
                self._start_pollers()
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - t0
        return self

    def attach(
        self, *, moto_url: str | None = None, api_url: str | None = None, sandbox_url: str | None = None
    ) -> LocalStack:
        """Use a stack that is already running (another process): bootstrap is idempotent, so this re-derives the
        same resources and environment without starting any server (``weekly-sync``, ``redrive-dlq``)."""
        self.moto_url = moto_url or f"http://{self.host}:{self.moto_port}"
        self.api_url = api_url or f"http://{self.host}:{self.api_port}"
        self.sandbox_url = sandbox_url or f"http://{self.host}:{self.sandbox_port}"
        self.bootstrap()
        return self

    def bootstrap(self) -> StackState:
        self._added_paths = ensure_layer_paths(self.template)
        self.resolver = Resolver(
            self.template,
            moto_url=self.moto_url,
            api_url=self.api_url,
            parameter_overrides=self.parameter_overrides,
            physical_names=self.physical_names,
        )
        sandbox = self.sandbox_url or f"http://{self.host}:{self.sandbox_port or DEFAULT_SANDBOX_PORT}"
        self.state = Bootstrap(self.template, self.resolver).run(
            sandbox_url=sandbox,
            sandbox_env=sandbox_env(sandbox, self._sandbox.app if self._sandbox else None),
            base_env=self.base_env,
        )
        self._apply_env(self.state.env)
        self.runtimes = {
            fid: FunctionRuntime(spec, name=self.state.resources[fid]["name"], arn=self.state.resources[fid]["arn"])
            for fid, spec in self.template.functions().items()
            if fid in self.state.resources
        }
        if self.preload:
            for runtime in self.runtimes.values():
                try:
                    runtime.load()
                except Exception:
                    log.exception(
                        "cannot import %s (%s); its invocations will fail", runtime.logical_id, runtime.spec.module
                    )
        return self.state

    def stop(self) -> None:
        for poller in self.pollers:
            poller._stop.set()
        for poller in self.pollers:
            poller.stop()
        self.pollers = []
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        if self._api_socket is not None:
            self._api_socket.close()
            self._api_socket = None
        if self._sandbox is not None:
            self._sandbox.stop()
            self._sandbox = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        self._restore_env()

    # -- environment --------------------------------------------------------------------------------------------------
    def _apply_env(self, env: Mapping[str, str]) -> None:
        for key, value in env.items():
            if key not in self._saved_env:
                self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        _reset_cached_clients()

    def _restore_env(self) -> None:
        for key, old in self._saved_env.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
        self._saved_env = {}
        for p in self._added_paths:
            if p in sys.path:
                sys.path.remove(p)
        self._added_paths = []

    # -- views --------------------------------------------------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        return dict(self._require_state().env)

    @property
    def function_env(self) -> dict[str, dict[str, str]]:
        """Per function: its template environment, resolved, plus the local settings (endpoint, credentials, ...)."""
        return {k: dict(v) for k, v in self._require_state().function_env.items()}

    @property
    def template_env(self) -> dict[str, dict[str, str]]:
        """Per function: only what the template sets (Globals + Environment), resolved."""
        return {k: dict(v) for k, v in self._require_state().template_env.items()}

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self._require_state().resources

    @property
    def outputs(self) -> dict[str, str]:
        return dict(self._require_state().outputs)

    @property
    def routes(self) -> list[HttpRoute]:
        return self.template.http_routes()

    def queue_url(self, logical_id: str) -> str:
        return str(self.resources[logical_id]["url"])

    def _require_state(self) -> StackState:
        if self.state is None:
            raise RuntimeError("the stack is not started (use start() or `with LocalStack() as stack:`)")
        return self.state

    def sqs(self) -> Any:
        return self.client("sqs")

    def client(self, service: str) -> Any:
        """A boto3 client for the stand-in (dummy credentials), cached per service."""
        key = (service, self.moto_url)
        if key not in self._clients:
            self._clients[key] = aws_client(service, self.moto_url, self.region)
        return self._clients[key]

    def token(self, ttl_seconds: int = 3600, **claims: Any) -> str:
        """A JWT the local authorizer accepts, e.g. ``stack.token(company_id="c1", sub="u1")``."""
        return self.authorizer.issue(claims, ttl_seconds=ttl_seconds)

    # -- gateway and pollers ------------------------------------------------------------------------------------------
    def gateway_app(self) -> Any:
        assert self.resolver is not None
        cors_config = self.template.cors_configuration()
        cors = Cors(
            self.resolver.resolve(cors_config) if cors_config else None,
            extra_origins=[self._require_state().env.get("FRONTEND_URL", "")],
        )
        return create_gateway_app(
            self.routes,
            self.runtimes,
            authorizer=self.authorizer,
            cors=cors,
            api_id=self.resolver.physical(self.routes[0].api_id).ref if self.routes else "localapi",
            account_id=self.resolver.account_id,
        )

    def _start_pollers(self) -> None:
        assert self.resolver is not None
        sqs = self.sqs()
        for source in self.template.sqs_event_sources():
            if not source.enabled or source.function_id not in self.runtimes:
                continue
            queue_id = source.queue_logical_id
            if queue_id is None or queue_id not in self.resources:
                log.warning(
                    "event source %s.%s: queue %r is not local", source.function_id, source.event_name, source.queue
                )
                continue
            poller = QueuePoller(
                sqs=sqs,
                runtime=self.runtimes[source.function_id],
                queue_url=self.resources[queue_id]["url"],
                queue_arn=self.resources[queue_id]["arn"],
                batch_size=source.batch_size,
                report_batch_item_failures=source.report_batch_item_failures,
                region=self.region,
                retry_delay=self.retry_delay,
                name=f"{queue_id}->{source.function_id}",
            )
            poller.start()
            self.pollers.append(poller)

    def invoke(self, function_id: str, event: Any) -> Any:
        """Call a function's handler in-process with the stack's environment."""
        return self.runtimes[function_id].invoke(event)

    # -- queues -------------------------------------------------------------------------------------------------------
    def queue_depths(self, logical_ids: list[str] | None = None) -> dict[str, dict[str, int]]:
        sqs = self.sqs()
        ids = logical_ids or [lid for lid, r in self.resources.items() if r.get("type") == "AWS::SQS::Queue"]
        names = (
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        )
        out: dict[str, dict[str, int]] = {}
        for lid in ids:
            attrs = sqs.get_queue_attributes(QueueUrl=self.queue_url(lid), AttributeNames=list(names))["Attributes"]
            out[lid] = {n: int(attrs.get(n, 0)) for n in names}
        return out

    def drain_queues(self, timeout: float = 30.0, *, settle: float = 0.3) -> bool:
        """Wait until every polled queue is empty (visible, in flight and delayed) and no poller is mid-batch.

        Returns False on timeout. Two consecutive idle checks ``settle`` seconds apart are required, since a handler
        may enqueue into another polled queue."""
        polled = sorted({self._queue_id_of(p) for p in self.pollers})
        deadline = time.monotonic() + timeout
        idle_checks = 0
        while time.monotonic() < deadline:
            busy = any(p.busy for p in self.pollers)
            depths = self.queue_depths(polled) if polled else {}
            empty = all(sum(d.values()) == 0 for d in depths.values())
            idle_checks = idle_checks + 1 if (empty and not busy) else 0
            if idle_checks >= 2:
                return True
            time.sleep(settle)
        log.warning("queues not drained after %.0fs: %s", timeout, self.queue_depths(polled) if polled else {})
        return False

    def _queue_id_of(self, poller: QueuePoller) -> str:
        return next(lid for lid, r in self.resources.items() if r.get("arn") == poller.queue_arn)

    def redrive_dlqs(self) -> dict[str, int]:
        """Move every DLQ's messages back to the queue that dead-lettered them; returns moved counts per DLQ.

        moto 5.2 does not implement SQS StartMessageMoveTask, so messages are received, re-sent (same body,
        attributes and MessageGroupId; a fresh MessageDeduplicationId so FIFO de-duplication does not drop them) and
        deleted. A DLQ fed by several queues goes back to the first one in the template."""
        sqs = self.sqs()
        moved: dict[str, int] = {}
        for dlq_id, source_ids in self.template.redrive_sources().items():
            if dlq_id not in self.resources or not source_ids:
                continue
            if len(source_ids) > 1:
                log.warning("%s is the DLQ of %s; redriving into %s", dlq_id, source_ids, source_ids[0])
            source = self.resources[source_ids[0]]
            dlq_url = self.queue_url(dlq_id)
            count = 0
            while True:
                batch = (
                    sqs.receive_message(
                        QueueUrl=dlq_url,
                        MaxNumberOfMessages=10,
                        WaitTimeSeconds=0,
                        AttributeNames=["All"],
                        MessageAttributeNames=["All"],
                        VisibilityTimeout=30,
                    ).get("Messages")
                    or []
                )
                if not batch:
                    break
                for m in batch:
                    params: dict[str, Any] = {"QueueUrl": source["url"], "MessageBody": m["Body"]}
                    if m.get("MessageAttributes"):
                        params["MessageAttributes"] = m["MessageAttributes"]
                    if source.get("fifo"):
                        attrs = m.get("Attributes") or {}
                        params["MessageGroupId"] = attrs.get("MessageGroupId") or "redrive"
                        params["MessageDeduplicationId"] = f"redrive-{uuid.uuid4().hex}"
                    sqs.send_message(**params)
                    sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=m["ReceiptHandle"])
                    count += 1
            moved[dlq_id] = count
        return moved

    # -- schedules ----------------------------------------------------------------------------------------------------
    def fire_schedule(self, name: str | None = None) -> list[ScheduleRun]:
        """Run schedules now: read each from the Scheduler stand-in and invoke its target function in-process with
        the schedule's Input as the event. A failing run is reported to the function's EventInvokeConfig
        ``OnFailure`` SQS destination, as an async invoke would be after its retries."""
        scheduler = self.client("scheduler")
        runs: list[ScheduleRun] = []
        by_arn = {r["arn"]: lid for lid, r in self.resources.items() if lid in self.runtimes}
        for summary in scheduler.list_schedules().get("Schedules", []):
            if name is not None and summary["Name"] != name:
                continue
            detail = scheduler.get_schedule(Name=summary["Name"], GroupName=summary.get("GroupName", "default"))
            target = detail["Target"]
            function_id = by_arn.get(target["Arn"])
            if function_id is None:
                log.warning("schedule %s targets %s, which is not a local function", summary["Name"], target["Arn"])
                continue
            event = json.loads(target["Input"]) if target.get("Input") else {}
            run = ScheduleRun(summary["Name"], function_id, event)
            try:
                run.result = self.invoke(function_id, event)
            except Exception as exc:
                log.exception("%s failed (schedule %s)", function_id, summary["Name"])
                run.error = exc
                self._send_on_failure(function_id, event, exc)
            runs.append(run)
        return runs

    def _send_on_failure(self, function_id: str, event: Any, exc: BaseException) -> None:
        assert self.resolver is not None
        config = self.template.functions()[function_id].properties.get("EventInvokeConfig") or {}
        destination = ((config.get("DestinationConfig") or {}).get("OnFailure")) or {}
        if destination.get("Type") != "SQS" or not destination.get("Destination"):
            return
        arn = self.resolver.resolve_str(destination["Destination"])
        queue_id = next((lid for lid, r in self.resources.items() if r.get("arn") == arn), None)
        if queue_id is None:
            return
        record = {
            "version": "1.0",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"{self.resources[function_id]['arn']}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": 1,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": str(exc), "errorType": type(exc).__name__},
        }
        params: dict[str, Any] = {"QueueUrl": self.queue_url(queue_id), "MessageBody": json.dumps(record)}
        if self.resources[queue_id].get("fifo"):
            params.update(MessageGroupId=function_id, MessageDeduplicationId=record["requestContext"]["requestId"])
        self.sqs().send_message(**params)


def _reset_cached_clients() -> None:
    """Forget SDK clients cached by code loaded earlier in this process (they may point at a previous stack)."""
    wiring = sys.modules.get("booksync.wiring")
    reset = getattr(wiring, "reset", None)
    if callable(reset):
        reset()
    models = sys.modules.get("pynamodb.models")
    if models is not None:
        pending = list(models.Model.__subclasses__())
        while pending:
            cls = pending.pop()
            cls._connection = None
            pending.extend(cls.__subclasses__())
