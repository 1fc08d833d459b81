"""HTTP plumbing shared by the API functions: resolver, caller identity, error envelope, JSON responses."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from pydantic import BaseModel

from booksync.config import get_settings
from booksync.errors import AppError, PayloadTooLarge, Unauthorized
from booksync.observability import logger, metrics
from booksync.schema_base import DeferredModel, DeferredRootModel

JSON = "application/json"
# Keys that the frontend expects to be absent (not null) when there is nothing to show.
ABSENT_WHEN_NONE = frozenset({"syncButton", "lastSyncError", "lastSyncedAt"})


class ErrorBody(DeferredModel):
    code: str
    message: str
    details: list[Any] | None = None


class ErrorEnvelope(DeferredModel):
    """Every non-2xx answer: ``{"error": {"code", "message", "details"?}}``."""

    error: ErrorBody


class GatewayError(DeferredModel):
    """What API Gateway itself answers before a function runs (no route 404, authorizer 401, throttling 429)."""

    message: str


class ApiError(DeferredRootModel[ErrorEnvelope | GatewayError]):
    """A non-2xx answer: the service's envelope, or API Gateway's own ``{"message"}``."""


# The error statuses any route may answer (documented on every operation, with the one envelope).
ERROR_STATUSES: dict[int, str] = {
    400: "A rule was broken; the message says which and how to fix it",
    401: "Missing or invalid access token, or a token without a company_id claim",
    429: "API Gateway's throttling: too many requests; slow down",
    404: "Not found (also anything that belongs to another company)",
    409: "Conflicts with the current state (duplicate invoice number, not connected, needs re-authorisation)",
    413: "The request body is larger than the limit",
    500: "Something went wrong on our side; try again",
    503: "The provider did not answer or is rate limiting; Retry-After says when to try again when it is known",
}


def errors() -> dict[int, OpenAPIResponse]:
    return {
        status: {"description": text, "content": {"application/json": {"model": ApiError}}}
        for status, text in ERROR_STATUSES.items()
    }


def doc(model: type[BaseModel] | None = None, status: int = 200, description: str = "OK") -> dict[int, OpenAPIResponse]:
    """OpenAPI description of a JSON response and the error envelope (routes return ``Response`` objects to control
    absent keys). ``model=None``: a JSON object not described further."""
    content: dict[str, Any] = {"model": model} if model is not None else {"schema": {"type": "object"}}
    return {status: {"description": description, "content": {"application/json": content}}, **errors()}  # type: ignore[dict-item]


def company_id(router: APIGatewayHttpResolver | Router) -> str:
    """The caller's company: the JWT claim ``company_id`` put there by the HTTP API's authorizer."""
    try:
        event = cast(APIGatewayProxyEventV2, router.current_event)
        claims = event.request_context.authorizer.jwt_claim or {}
    except (AttributeError, KeyError, TypeError):
        claims = {}
    value = claims.get("company_id")
    if not isinstance(value, str) or not value.strip():
        raise Unauthorized("The access token has no 'company_id' claim; sign in again.", code="unauthorized")
    return value


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if not (v is None and k in ABSENT_WHEN_NONE)}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def json_response(
    payload: BaseModel | dict[str, Any] | list[Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response[str]:
    data = payload.model_dump(mode="json", by_alias=True) if isinstance(payload, BaseModel) else payload
    return Response(status_code=status, content_type=JSON, body=json.dumps(_prune(data)), headers=headers)


def error_response(status: int, code: str, message: str, details: list[Any] | None = None) -> Response[str]:
    err: dict[str, Any] = {"code": code, "message": message}
    if details:
        err["details"] = details
    return Response(status_code=status, content_type=JSON, body=json.dumps({"error": err}))


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def register_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        details = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ())]
            where = loc[0] if loc else "body"
            field = ".".join(loc[1:]) or where
            if err.get("type") == "json_invalid":
                field = "body"
            details.append({"field": field, "in": where, "message": err.get("msg", "invalid"), "type": err.get("type")})
        fields = ", ".join(dict.fromkeys(d["field"] for d in details))
        logger.info("request rejected", reason="validation", fields=fields)
        return error_response(
            422, "validation_error", f"The request is not valid: check {fields}. See 'details' for each field.", details
        )

    @app.exception_handler(AppError)
    def _app_error(exc: AppError) -> Response[str]:
        if exc.status >= 500:
            logger.warning("request failed upstream", code=exc.code)
        else:
            logger.info("request rejected", code=exc.code, status=exc.status)
        headers = None
        wait = getattr(exc.__cause__, "retry_after", None)  # a provider's named wait (rate limit) reaches the client
        if exc.status in (429, 503) and isinstance(wait, int | float) and wait > 0:
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
        return Response(status_code=exc.status, content_type=JSON, body=json.dumps(exc.body()), headers=headers)

    @app.exception_handler(ServiceError)
    def _service_error(exc: ServiceError) -> Response[str]:
        return error_response(exc.status_code, _STATUS_CODES.get(exc.status_code, "error"), str(exc.msg))

    @app.not_found
    def _not_found(_exc: Exception) -> Response[str]:
        path = app.current_event.raw_path if app.current_event else ""
        return error_response(404, "route_not_found", f"No route matches {path}; see the API reference (openapi.json).")

    @app.exception_handler(Exception)
    def _bug(exc: Exception) -> Response[str]:
        logger.exception("unhandled error")
        metrics.add_metric(name="UnhandledError", unit=MetricUnit.Count, value=1)
        return error_response(500, "internal_error", "Something went wrong on our side; try again in a minute.")


def make_resolver(routers: Iterable[Router]) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    register_error_handlers(app)
    for router in routers:
        app.include_router(router)
    return app


def resolve(app: APIGatewayHttpResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve an HTTP API event, refusing oversized bodies before anything parses them."""
    body = event.get("body") or ""
    limit = get_settings().max_body_bytes
    if len(body) > limit * (4 / 3 if event.get("isBase64Encoded") else 1):
        exc = PayloadTooLarge(f"The request body is larger than {limit} bytes; send less data per request.")
        return {"statusCode": 413, "headers": {"Content-Type": JSON}, "body": json.dumps(exc.body())}
    if body and event.get("isBase64Encoded") and not _utf8(body):
        logger.info("request rejected", reason="validation", fields="body")
        detail = {"field": "body", "in": "body", "message": "not UTF-8 text", "type": "json_invalid"}
        message = "The request is not valid: the body is not UTF-8 encoded JSON."
        payload = {"error": {"code": "validation_error", "message": message, "details": [detail]}}
        return {"statusCode": 422, "headers": {"Content-Type": JSON}, "body": json.dumps(payload)}
    return app.resolve(event, context)


def _utf8(b64: str) -> bool:
    """A base64 body (API Gateway's encoding of non-text payloads) that decodes to UTF-8 text."""
    import base64
    import binascii

    try:
        base64.b64decode(b64).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    return True
