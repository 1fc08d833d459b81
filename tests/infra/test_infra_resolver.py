"""The template loader (CloudFormation short-form tags) and the intrinsic resolver of the local stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.stack import Template
from local.stack.resolver import Resolver, UnresolvedReference

TEMPLATE = """\
Parameters:
  Stage: {Type: String, Default: dev}
  Audience: {Type: CommaDelimitedList, Default: "a,b"}
  Required: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties: {FifoQueue: true}
  Named:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Sub "named-${Stage}"}
  Table:
    Type: AWS::DynamoDB::Table
    Properties: {TableName: !Join ["-", [t, !Ref Stage]]}
  Fn:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: fns/fn/, Handler: app.lambda_handler}
  Api:
    Type: AWS::ApiGatewayV2::Api
Values:
  sub_long: !Sub ["${Prefix}/${Queue.QueueName}/${!Literal}", {Prefix: !Ref Stage}]
  getatt_short: !GetAtt Fn.Arn
  select_split: !Select [1, !Split [",", "x,y,z"]]
  if_novalue: {Keep: !If [NotProd, yes-dev, !Ref AWS::NoValue], Drop: !If [IsProd, 1, !Ref AWS::NoValue]}
  list_param: !Ref Audience
  api_url: !Sub https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/path
  base64: !Base64 hi
"""


@pytest.fixture
def template(tmp_path: Path) -> Template:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return Template.load(path)


@pytest.fixture
def resolver(template: Template) -> Resolver:
    return Resolver(template, moto_url="http://127.0.0.1:5000", api_url="http://127.0.0.1:3000")


def test_loader_turns_short_form_tags_into_long_form(template: Template) -> None:
    values = template.data["Values"]
    assert values["getatt_short"] == {"Fn::GetAtt": ["Fn", "Arn"]}
    assert template.conditions["NotProd"] == {"Fn::Not": [{"Condition": "IsProd"}]}
    assert values["list_param"] == {"Ref": "Audience"}


def test_resolver_resolves_sub_getatt_join_select_split(template: Template, resolver: Resolver) -> None:
    values = resolver.resolve(template.data["Values"])
    assert values["sub_long"] == "dev/Queue.fifo/${Literal}"
    assert values["getatt_short"] == "arn:aws:lambda:us-east-1:123456789012:function:Fn"
    assert values["select_split"] == "y"
    assert values["list_param"] == ["a", "b"]
    assert values["base64"] == "aGk="
    assert resolver.resolve({"Ref": "Table"}) == "t-dev"
    assert resolver.resolve({"Ref": "Named"}) == "http://127.0.0.1:5000/123456789012/named-dev"


def test_resolver_conditions_and_no_value(template: Template, resolver: Resolver) -> None:
    assert resolver.resolve(template.data["Values"]["if_novalue"]) == {"Keep": "yes-dev"}
    prod = Resolver(template, moto_url="http://m", api_url="http://a", parameter_overrides={"Stage": "prod"})
    assert prod.resolve(template.data["Values"]["if_novalue"]) == {"Drop": 1}


def test_resolver_localizes_the_api_url(template: Template, resolver: Resolver) -> None:
    raw = resolver.resolve_str(template.data["Values"]["api_url"])
    assert resolver.localize(raw) == "http://127.0.0.1:3000/path"


def test_resolver_reports_what_it_cannot_resolve(resolver: Resolver) -> None:
    with pytest.raises(UnresolvedReference, match="Required"):
        resolver.resolve({"Ref": "Required"})
    with pytest.raises(UnresolvedReference, match="Missing"):
        resolver.resolve({"Fn::GetAtt": ["Missing", "Arn"]})
    with pytest.raises(UnresolvedReference, match=r"Queue\.Nope"):
        resolver.resolve({"Fn::GetAtt": ["Queue", "Nope"]})


def test_function_spec_module_is_the_test_import_path(template: Template) -> None:
    fn = template.functions()["Fn"]
    assert (fn.module, fn.handler_attr) == ("fns.fn.app", "lambda_handler")


def test_resolver_physical_names_pin_a_name(template: Template) -> None:
    pinned = Resolver(template, moto_url="http://m", api_url="http://a", physical_names={"Table": "blueclerk-test"})
    assert pinned.resolve({"Ref": "Table"}) == "blueclerk-test"
    assert pinned.resolve({"Fn::GetAtt": ["Table", "Arn"]}).endswith(":table/blueclerk-test")
