"""The local HTTP API: routing from the template, the JWT authorizer, the v2.0 event and the response mapping."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

from local.stack.gateway import DEFAULT_JWT_SECRET, compile_routes, match_route
from local.stack.template import HttpRoute

pytestmark = pytest.mark.moto_server


def _last_event(tiny: Any) -> dict[str, Any]:
    return tiny.module("echo").EVENTS[-1]


def _get(tiny: Any, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(f"{tiny.stack.api_url}{path}", timeout=10, **kwargs)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_gateway_missing_token_is_401_like_api_gateway(tiny_stack: Any) -> None:
    response = _get(tiny_stack, "/things/1")
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(
            jwt.encode({"company_id": "c1", "exp": int(time.time()) + 60}, "wrong-secret"), id="bad-signature"
        ),
        pytest.param(jwt.encode({"company_id": "c1", "exp": int(time.time()) - 5}, DEFAULT_JWT_SECRET), id="expired"),
        pytest.param(jwt.encode({"company_id": "c1"}, DEFAULT_JWT_SECRET), id="no-exp"),
        pytest.param("not-a-jwt", id="malformed"),
        pytest.param(
            jwt.encode({"company_id": "c1", "exp": int(time.time()) + 60}, DEFAULT_JWT_SECRET, algorithm="HS512"),
            id="other-algorithm",
        ),
    ],
)
def test_gateway_invalid_token_is_401_and_handler_not_called(tiny_stack: Any, token: str) -> None:
    before = len(tiny_stack.module("echo").EVENTS)
    response = _get(tiny_stack, "/things/1", headers=_bearer(token))
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert len(tiny_stack.module("echo").EVENTS) == before


def test_gateway_valid_token_passes_claims_like_api_gateway(tiny_stack: Any) -> None:
    # Given a token with a list claim and scopes
    token = tiny_stack.stack.token(company_id="c1", sub="u1", groups=["a", "b"], scope="read write")
    # When a JWT route is called
    response = _get(tiny_stack, "/things/42", headers=_bearer(token))
    # Then the handler ran and saw the claims as strings, scopes as a list
    assert response.status_code == 200
    assert response.json()["function"] == "EchoFunction"
    assert 0 < response.json()["remaining"] <= 5000
    event = _last_event(tiny_stack)
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["company_id"] == "c1"
    assert claims["groups"] == "[a b]"
    assert isinstance(claims["exp"], str)
    assert event["requestContext"]["authorizer"]["jwt"]["scopes"] == ["read", "write"]
    assert event["pathParameters"] == {"id": "42"}
    assert event["routeKey"] == "GET /things/{id}"


def test_gateway_event_is_a_valid_http_api_v2_event(tiny_stack: Any) -> None:
    # Given a request with repeated query params, cookies, mixed-case headers and a JSON body on a no-auth route
    response = httpx.post(
        f"{tiny_stack.stack.api_url}/public/a/b?x=1&x=2&empty=",
        headers={"X-Custom": "Value", "Cookie": "c1=v1; c2=v2", "Content-Type": "application/json"},
        content=b'{"amount": "350.00"}',
        timeout=10,
    )
    assert response.status_code == 200
    event = _last_event(tiny_stack)
    # Then it validates as Powertools' model and data class
    model = APIGatewayProxyEventV2Model.model_validate(event)
    data = APIGatewayProxyEventV2(event)
    assert model.routeKey == "ANY /public/{proxy+}"
    assert model.requestContext.stage == "$default"
    assert model.requestContext.http.method == "POST"
    assert model.requestContext.authorizer is None
    assert data.raw_path == "/public/a/b"
    assert data.path_parameters == {"proxy": "a/b"}
    assert data.raw_query_string == "x=1&x=2&empty="
    assert data.query_string_parameters == {"x": "1,2", "empty": ""}
    assert data.cookies == ["c1=v1", "c2=v2"]
    assert data.headers["x-custom"] == "Value"
    assert "cookie" not in data.headers
    assert data.json_body == {"amount": "350.00"}
    assert data.is_base64_encoded is False
    assert data.request_context.http.source_ip == "127.0.0.1"
    assert event["requestContext"]["timeEpoch"] > 0
    assert event["requestContext"]["requestId"]
    assert event["version"] == "2.0"


def test_gateway_binary_body_is_base64_encoded(tiny_stack: Any) -> None:
    payload = bytes(range(256))
    httpx.post(
        f"{tiny_stack.stack.api_url}/public/upload",
        headers={"Content-Type": "application/octet-stream"},
        content=payload,
        timeout=10,
    )
    event = _last_event(tiny_stack)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


def test_gateway_literal_segment_beats_path_parameter(tiny_stack: Any) -> None:
    token = tiny_stack.stack.token(company_id="c1")
    assert _get(tiny_stack, "/things/special", headers=_bearer(token)).status_code == 200
    assert _last_event(tiny_stack)["routeKey"] == "GET /things/special"
    assert "pathParameters" not in _last_event(tiny_stack)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nowhere"), ("DELETE", "/things/1"), ("GET", "/things"), ("GET", "/")]
)
def test_gateway_unknown_route_is_404_like_api_gateway(tiny_stack: Any, method: str, path: str) -> None:
    response = httpx.request(method, f"{tiny_stack.stack.api_url}{path}", timeout=10)
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_gateway_maps_the_v2_response_back(tiny_stack: Any) -> None:
    result = {
        "statusCode": 201,
        "headers": {"X-Trace": "abc", "Content-Type": "text/plain"},
        "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
        "body": base64.b64encode(b"hello").decode(),
        "isBase64Encoded": True,
    }
    response = httpx.post(f"{tiny_stack.stack.api_url}/public/reply", json=result, timeout=10)
    assert response.status_code == 201
    assert response.content == b"hello"
    assert response.headers["x-trace"] == "abc"
    assert response.headers["content-type"] == "text/plain"
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; HttpOnly"]
    assert response.headers["apigw-requestid"]


def test_gateway_result_without_status_code_is_a_200_json_body(tiny_stack: Any) -> None:
    response = httpx.post(f"{tiny_stack.stack.api_url}/public/reply", json={"hello": "world"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"hello": "world"}


def test_gateway_handler_exception_is_500_like_api_gateway(tiny_stack: Any) -> None:
    response = _get(tiny_stack, "/public/boom")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}


def test_gateway_answers_cors_preflight_from_the_template(tiny_stack: Any) -> None:
    response = httpx.options(
        f"{tiny_stack.stack.api_url}/things/1",
        headers={"Origin": "http://frontend.test", "Access-Control-Request-Method": "GET"},
        timeout=10,
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "http://frontend.test"
    assert response.headers["access-control-allow-headers"] == "authorization,content-type"
    other = httpx.get(f"{tiny_stack.stack.api_url}/public/x", headers={"Origin": "http://evil.test"}, timeout=10)
    assert "access-control-allow-origin" not in other.headers


def test_gateway_api_base_url_env_is_the_local_gateway(tiny_stack: Any) -> None:
    assert tiny_stack.stack.env["API_BASE_URL"] == tiny_stack.stack.api_url
    assert tiny_stack.stack.resources["Table"]["name"] == "tiny-blueclerk-local"
    assert "NeverFunction" not in tiny_stack.stack.resources  # Condition: Never


def test_route_matching_prefers_exact_method_and_literals() -> None:
    routes = compile_routes(
        [
            HttpRoute("ANY", "/a/{x}", "F1", "NONE", "Api"),
            HttpRoute("GET", "/a/{x}", "F2", "NONE", "Api"),
            HttpRoute("GET", "/a/b", "F3", "NONE", "Api"),
            HttpRoute("GET", "/{proxy+}", "F4", "NONE", "Api"),
            HttpRoute("ANY", "$default", "F5", "NONE", "Api"),
        ]
    )

    def target(method: str, path: str) -> tuple[str, dict[str, str]]:
        matched = match_route(routes, method, path)
        assert matched is not None
        return matched[0].function_id, matched[1]

    assert target("GET", "/a/b") == ("F3", {})
    assert target("GET", "/a/c") == ("F2", {"x": "c"})
    assert target("POST", "/a/c") == ("F1", {"x": "c"})
    assert target("GET", "/z/y") == ("F4", {"proxy": "z/y"})
    assert target("POST", "/z") == ("F5", {})


def test_token_command_output_is_accepted() -> None:
    from local.stack.__main__ import main

    assert main(["token", "--company-id", "c9"]) == 0


def test_sam_httpapi_events_are_routes_too(tmp_path: Any) -> None:
    from local.stack import Template

    path = tmp_path / "template.yaml"
    path.write_text(
        json.dumps(
            {
                "Transform": "AWS::Serverless-2016-10-31",
                "Resources": {
                    "Api": {"Type": "AWS::Serverless::HttpApi", "Properties": {"Auth": {"DefaultAuthorizer": "Jwt"}}},
                    "Fn": {
                        "Type": "AWS::Serverless::Function",
                        "Properties": {
                            "CodeUri": "fns/fn/",
                            "Handler": "app.lambda_handler",
                            "Events": {
                                "A": {
                                    "Type": "HttpApi",
                                    "Properties": {"ApiId": {"Ref": "Api"}, "Path": "/a", "Method": "get"},
                                },
                                "B": {
                                    "Type": "HttpApi",
                                    "Properties": {
                                        "ApiId": {"Ref": "Api"},
                                        "Path": "/b",
                                        "Method": "post",
                                        "Auth": {"Authorizer": "NONE"},
                                    },
                                },
                            },
                        },
                    },
                },
            }
        )
    )
    routes = {r.route_key: r.auth for r in Template.load(path).http_routes()}
    assert routes == {"GET /a": "JWT", "POST /b": "NONE"}
