"""Local stand-in for the HTTP API (API Gateway v2): routes each request to the function ``template.yaml`` wires to
it, plays the JWT authorizer, builds a payload-format-2.0 event and maps the handler's response back.

Behaviour copied from API Gateway HTTP APIs:
- the most specific route wins (literal segment > ``{param}`` > ``{greedy+}``; an exact method > ``ANY``);
  no route -> ``404 {"message":"Not Found"}``;
- JWT routes need ``Authorization: Bearer <jwt>`` (the ``Bearer`` prefix is optional, as in API Gateway); here
  the token is HS256-signed with ``LOCAL_JWT_SECRET`` (default ``local-dev-secret``) and must carry a future ``exp``;
  ``LOCAL_JWT_ISSUER`` / ``LOCAL_JWT_AUDIENCE``, when set, are checked too. Otherwise
  ``401 {"message":"Unauthorized"}``;
- claims reach the handler as ``requestContext.authorizer.jwt.claims`` with string values (lists as ``[a b]``),
  scopes from the ``scope``/``scp`` claim;
- cookies move from the ``cookie`` header to ``cookies``; repeated headers / query parameters are comma-joined;
- a handler result without ``statusCode`` is sent as a 200 JSON body; an exception is a
  ``500 {"message":"Internal Server Error"}``;
- CORS preflights are answered from the API's ``CorsConfiguration``.
Also serves ``GET /openapi.json`` and ``GET /swagger`` from ``booksync.openapi`` (local only).
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jwt
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from local.stack.invoke import FunctionRuntime
from local.stack.template import HttpRoute

log = logging.getLogger("local.stack")

DEFAULT_JWT_SECRET = "local-dev-secret"
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/x-www-form-urlencoded",
    "+json",
    "+xml",
    "application/javascript",
    "application/graphql",
)
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


# ---------------------------------------------------------------------------------------------------------------------
# Routing
# ---------------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompiledRoute:
    route: HttpRoute
    pattern: re.Pattern[str]
    params: tuple[str, ...]
    rank: tuple[int, ...]  # per segment: 0 literal, 1 {param}, 2 {greedy+}; lower sorts first


def compile_routes(routes: Sequence[HttpRoute]) -> list[CompiledRoute]:
    compiled: list[CompiledRoute] = []
    for route in routes:
        if route.path == "$default":
            compiled.append(CompiledRoute(route, re.compile(r"^.*$"), (), (3,)))
            continue
        parts, params, rank = [], [], []
        for segment in [s for s in route.path.split("/") if s]:
            m = re.fullmatch(r"\{([^}]+?)(\+?)\}", segment)
            if m is None:
                parts.append(re.escape(segment))
                rank.append(0)
            elif m.group(2):
                parts.append("(.+)")
                params.append(m.group(1))
                rank.append(2)
            else:
                parts.append("([^/]+)")
                params.append(m.group(1))
                rank.append(1)
        compiled.append(CompiledRoute(route, re.compile("^/" + "/".join(parts) + "/?$"), tuple(params), tuple(rank)))
    return compiled


def match_route(compiled: Sequence[CompiledRoute], method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
    candidates: list[tuple[tuple[Any, ...], HttpRoute, dict[str, str]]] = []
    for c in compiled:
        if c.route.method not in (method, "ANY"):
            continue
        m = c.pattern.match(path)
        if m is None:
            continue
        exact_method = 0 if c.route.method == method else 1
        candidates.append(((c.rank, exact_method), c.route, dict(zip(c.params, m.groups(), strict=True))))
    if not candidates:
        return None
    candidates.sort(key=lambda item: item[0])
    _key, route, params = candidates[0]
    return route, params


# ---------------------------------------------------------------------------------------------------------------------
# JWT authorizer
# ---------------------------------------------------------------------------------------------------------------------
class JwtAuthorizer:
    def __init__(self, secret: str | None = None, *, issuer: str | None = None, audience: str | None = None) -> None:
        self.secret = secret or os.environ.get("LOCAL_JWT_SECRET") or DEFAULT_JWT_SECRET
        self.issuer = issuer if issuer is not None else os.environ.get("LOCAL_JWT_ISSUER") or None
        self.audience = audience if audience is not None else os.environ.get("LOCAL_JWT_AUDIENCE") or None

    def verify(self, authorization: str | None) -> dict[str, Any] | None:
        """Claims of a valid token, or None (missing, malformed, bad signature, expired, wrong iss/aud)."""
        if not authorization:
            return None
        token = authorization.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            return jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp"], "verify_aud": self.audience is not None},
            )
        except jwt.PyJWTError as exc:
            log.info("jwt rejected: %s", exc)
            return None

    def issue(self, claims: Mapping[str, Any], *, ttl_seconds: int = 3600) -> str:
        """A token this authorizer accepts (for curl and tests)."""
        now = int(time.time())
        body: dict[str, Any] = {"iat": now, "exp": now + ttl_seconds}
        if self.issuer:
            body["iss"] = self.issuer
        if self.audience:
            body["aud"] = self.audience
        body.update(claims)
        return jwt.encode(body, self.secret, algorithm="HS256")


def apigw_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """API Gateway hands JWT claims to the integration as strings (arrays as ``[a b]``)."""
    out: dict[str, str] = {}
    for key, value in claims.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list):
            out[key] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, dict):
            out[key] = json.dumps(value, separators=(",", ":"))
        else:
            out[key] = str(value)
    return out


def _scopes(claims: Mapping[str, Any]) -> list[str] | None:
    raw = claims.get("scope", claims.get("scp"))
    if raw is None:
        return None
    return raw.split() if isinstance(raw, str) else [str(s) for s in raw]


# ---------------------------------------------------------------------------------------------------------------------
# Event and response
# ---------------------------------------------------------------------------------------------------------------------
def _request_id() -> str:
    return base64.b64encode(secrets.token_bytes(10)).decode()[:14] + "="


def _is_text(content_type: str | None) -> bool:
    return content_type is None or any(t in content_type.lower() for t in _TEXT_TYPES)


# Powertools keeps the current request on a class attribute shared by every resolver in the process
# (`BaseRouter.current_event`). In Lambda one process serves one request at a time; here every function lives in one
# process, so HTTP invocations are serialised, or two callers' events (and companies) could be mixed.
_HTTP_INVOKE_LOCK = threading.Lock()


ASSETS = "/swagger-ui/"
_ASSET_TYPES = {".js": "application/javascript", ".css": "text/css", ".png": "image/png", ".map": "application/json"}


def _swagger_asset(name: str) -> Response:
    """Swagger UI's own files, shipped by the swagger-ui-bundle package: the page works offline."""
    try:
        import swagger_ui_bundle
    except ImportError:
        return _json_response(404, {"message": "swagger-ui-bundle is not installed"})
    root = Path(swagger_ui_bundle.swagger_ui_path).resolve()
    target = (root / name).resolve()
    if root not in target.parents or not target.is_file():
        return _json_response(404, {"message": "Not Found"})
    return Response(target.read_bytes(), headers={"content-type": _ASSET_TYPES.get(target.suffix, "text/plain")})


def _invoke_http(runtime: Any, event: dict[str, Any]) -> Any:
    with _HTTP_INVOKE_LOCK:
        return runtime.invoke(event)


def build_http_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    header_items: Sequence[tuple[str, str]],
    body: bytes,
    route: HttpRoute,
    path_params: Mapping[str, str],
    source_ip: str,
    claims: Mapping[str, Any] | None,
    api_id: str,
    account_id: str,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload format 2.0 event."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in header_items:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    host = headers.get("host", "127.0.0.1")
    now = time.time()
    request_id = _request_id()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "domainName": host,
            "domainPrefix": host.split(".")[0].split(":")[0],
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route.route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_params:
        event["pathParameters"] = dict(path_params)
    if claims is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": apigw_claims(claims), "scopes": _scopes(claims)}}
    if body:
        if _is_text(headers.get("content-type")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def _json_response(status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    return Response(
        json.dumps(payload, separators=(",", ":")),
        status_code=status,
        headers={"content-type": "application/json", **(headers or {})},
    )


def to_response(result: Any) -> Response:
    """Map a v2 handler result back to HTTP like API Gateway does."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return (
            _json_response(200, result)
            if isinstance(result, dict)
            else Response(json.dumps(result), status_code=200, headers={"content-type": "application/json"})
        )
    status = int(result["statusCode"])
    headers = {str(k).lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    headers.pop("content-length", None)
    body = result.get("body")
    if body is None:
        content = b""
    elif result.get("isBase64Encoded"):
        content = base64.b64decode(body)
    else:
        content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    response = Response(content, status_code=status, headers=headers)
    for cookie in result.get("cookies") or []:
        response.raw_headers.append((b"set-cookie", str(cookie).encode("latin-1")))
    return response


# ---------------------------------------------------------------------------------------------------------------------
# CORS
# ---------------------------------------------------------------------------------------------------------------------
class Cors:
    def __init__(self, config: Mapping[str, Any] | None, extra_origins: Sequence[str] = ()) -> None:
        config = config or {}
        self.enabled = bool(config)
        self.origins = {o.rstrip("/") for o in [*(config.get("AllowOrigins") or []), *extra_origins] if o}
        self.methods = [str(m) for m in config.get("AllowMethods") or ["*"]]
        self.headers = [str(h) for h in config.get("AllowHeaders") or []]
        self.expose = [str(h) for h in config.get("ExposeHeaders") or []]
        self.max_age = config.get("MaxAge")
        self.credentials = str(config.get("AllowCredentials", "false")).lower() == "true"

    def allowed(self, origin: str | None) -> bool:
        return self.enabled and origin is not None and ("*" in self.origins or origin.rstrip("/") in self.origins)

    def headers_for(self, origin: str) -> dict[str, str]:
        out = {"access-control-allow-origin": "*" if "*" in self.origins and not self.credentials else origin}
        if self.expose:
            out["access-control-expose-headers"] = ",".join(self.expose)
        if self.credentials:
            out["access-control-allow-credentials"] = "true"
        return out

    def preflight(self, origin: str) -> Response:
        headers = self.headers_for(origin)
        headers["access-control-allow-methods"] = ",".join(self.methods)
        if self.headers:
            headers["access-control-allow-headers"] = ",".join(self.headers)
        if self.max_age is not None:
            headers["access-control-max-age"] = str(self.max_age)
        return Response(status_code=204, headers=headers)


# ---------------------------------------------------------------------------------------------------------------------
# App
# ---------------------------------------------------------------------------------------------------------------------
def create_gateway_app(
    routes: Sequence[HttpRoute],
    runtimes: Mapping[str, FunctionRuntime],
    *,
    authorizer: JwtAuthorizer,
    cors: Cors | None = None,
    api_id: str = "localapi",
    account_id: str = "123456789012",
    serve_docs: bool = True,
) -> Starlette:
    compiled = compile_routes(routes)
    cors = cors or Cors(None)

    async def endpoint(request: Request) -> Response:
        started = time.monotonic()
        method = request.method.upper()
        path = request.url.path
        origin = request.headers.get("origin")
        if method == "OPTIONS" and cors.allowed(origin) and "access-control-request-method" in request.headers:
            return cors.preflight(origin or "")
        response, target = await _dispatch(request, method, path)
        response.headers["apigw-requestid"] = response.headers.get("apigw-requestid", _request_id())
        if origin and cors.allowed(origin):
            response.headers.update(cors.headers_for(origin))
        log.info(
            "%s %s -> %s %d (%.0f ms)", method, path, target, response.status_code, (time.monotonic() - started) * 1000
        )
        return response

    async def _dispatch(request: Request, method: str, path: str) -> tuple[Response, str]:
        matched = match_route(compiled, method, path)
        if matched is None:
            if serve_docs and method == "GET" and (path in ("/openapi.json", "/swagger") or path.startswith(ASSETS)):
                return _docs(request, path), "booksync.openapi"
            return _json_response(404, {"message": "Not Found"}), "-"
        route, path_params = matched
        claims: dict[str, Any] | None = None
        if route.auth == "JWT":
            claims = authorizer.verify(request.headers.get("authorization"))
            if claims is None:
                return _json_response(401, {"message": "Unauthorized"}, {"www-authenticate": "Bearer"}), "authorizer"
        runtime = runtimes[route.function_id]
        event = build_http_event(
            method=method,
            raw_path=request.scope.get("raw_path", path.encode()).decode("latin-1") or path,
            raw_query=request.scope.get("query_string", b"").decode("latin-1"),
            header_items=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]],
            body=await request.body(),
            route=route,
            path_params=path_params,
            source_ip=request.client.host if request.client else "127.0.0.1",
            claims=claims,
            api_id=api_id,
            account_id=account_id,
        )
        try:
            result = await run_in_threadpool(_invoke_http, runtime, event)
            return to_response(result), route.function_id
        except Exception:
            log.exception("%s failed on %s", route.function_id, route.route_key)
            return _json_response(500, {"message": "Internal Server Error"}), route.function_id

    def _docs(request: Request, path: str) -> Response:
        try:
            from booksync import openapi
        except ImportError as exc:
            return _json_response(501, {"message": f"booksync.openapi is not available: {exc}"})
        if path == "/openapi.json":
            return Response(openapi.openapi_json(), headers={"content-type": "application/json"})
        if path.startswith(ASSETS):
            return _swagger_asset(path[len(ASSETS) :])
        spec_url = str(request.url.replace(path="/openapi.json", query=""))
        html = openapi.swagger_html(spec_url, assets_url=ASSETS.rstrip("/"))
        return Response(html, headers={"content-type": "text/html; charset=utf-8"})

    async def _unrouted(_request: Request, exc: Exception) -> Response:
        # Starlette's own 404/405 (e.g. a path with an encoded newline its catch-all pattern does not match) answers
        # the way API Gateway does: JSON `{"message": ...}`, never text/plain
        status = getattr(exc, "status_code", 404)
        return _json_response(status, {"message": "Not Found" if status == 404 else "Method Not Allowed"})

    return Starlette(
        routes=[Route("/{path:path}", endpoint, methods=_ALL_METHODS)],
        exception_handlers={404: _unrouted, 405: _unrouted},
    )
