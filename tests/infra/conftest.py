"""Fixtures for the template and local-stack tests.

``tiny_stack`` runs the real local stack (moto server over HTTP, gateway, pollers) on a small test template in a temp
dir whose functions are test doubles, so these tests do not depend on the application handlers.
"""

from __future__ import annotations

import importlib
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from local.stack import LocalStack, Template
from local.stack.template import DEFAULT_TEMPLATE

TINY_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  FrontendUrl:
    Type: String
    Default: http://frontend.test
Conditions:
  Never: !Equals [a, b]
Globals:
  Function:
    Runtime: python3.13
    Timeout: 5
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        WORK_QUEUE_URL: !GetAtt WorkQueue.QueueUrl
        TOKEN_KMS_KEY_ID: !Ref Key
        API_BASE_URL: !Sub https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}
Resources:
  HttpApi:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: tiny
      ProtocolType: HTTP
      CorsConfiguration:
        AllowOrigins: [!Ref FrontendUrl]
        AllowMethods: [GET, POST]
        AllowHeaders: [authorization, content-type]
        MaxAge: 300
  Authorizer:
    Type: AWS::ApiGatewayV2::Authorizer
    Properties:
      ApiId: !Ref HttpApi
      Name: jwt
      AuthorizerType: JWT
      IdentitySource: [$request.header.Authorization]
      JwtConfiguration: {Issuer: https://issuer.test/, Audience: [tiny]}
  EchoIntegration:
    Type: AWS::ApiGatewayV2::Integration
    Properties:
      ApiId: !Ref HttpApi
      IntegrationType: AWS_PROXY
      IntegrationUri: !GetAtt EchoFunction.Arn
      PayloadFormatVersion: "2.0"
  RouteGetThing:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref HttpApi
      RouteKey: GET /things/{id}
      AuthorizationType: JWT
      AuthorizerId: !Ref Authorizer
      Target: !Sub integrations/${EchoIntegration}
  RouteGetThingsSpecial:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref HttpApi
      RouteKey: GET /things/special
      AuthorizationType: JWT
      AuthorizerId: !Ref Authorizer
      Target: !Sub integrations/${EchoIntegration}
  RoutePublic:
    Type: AWS::ApiGatewayV2::Route
    Properties:
      ApiId: !Ref HttpApi
      RouteKey: ANY /public/{proxy+}
      AuthorizationType: NONE
      Target: !Join ["/", [integrations, !Ref EchoIntegration]]
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: PKG/echo/
      Handler: app.lambda_handler
  ConsumerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: PKG/consumer/
      Handler: app.lambda_handler
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt WorkQueue.Arn
            BatchSize: 10
            FunctionResponseTypes: [ReportBatchItemFailures]
        Plain:
          Type: SQS
          Properties:
            Queue: !GetAtt PlainQueue.Arn
            BatchSize: 5
  ScheduledFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: PKG/scheduled/
      Handler: app.lambda_handler
      Events:
        Weekly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 6 ? * SUN *)
            ScheduleExpressionTimezone: UTC
            Input: '{"source":"tiny.scheduler","job":"weekly"}'
            OmitName: true
            RetryPolicy: {MaximumRetryAttempts: 1}
            DeadLetterConfig:
              Arn: !GetAtt ScheduleDLQ.Arn
      EventInvokeConfig:
        MaximumRetryAttempts: 0
        DestinationConfig:
          OnFailure:
            Type: SQS
            Destination: !GetAtt ScheduleDLQ.Arn
  NeverFunction:
    Type: AWS::Serverless::Function
    Condition: Never
    Properties:
      CodeUri: PKG/never/
      Handler: app.lambda_handler
  WorkQueue:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      VisibilityTimeout: 30
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt WorkDLQ.Arn
        maxReceiveCount: 3
  WorkDLQ:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      MessageRetentionPeriod: 1209600
  PlainQueue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 30
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt PlainDLQ.Arn
        maxReceiveCount: 2
  PlainDLQ:
    Type: AWS::SQS::Queue
  ScheduleDLQ:
    Type: AWS::SQS::Queue
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub tiny-${AWS::StackName}
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: sk, AttributeType: S}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}
      PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}
  Key:
    Type: AWS::KMS::Key
    Properties:
      EnableKeyRotation: true
"""

ECHO = """\
from __future__ import annotations

import json

EVENTS: list[dict] = []


def lambda_handler(event, context):
    EVENTS.append(event)
    if event["rawPath"] == "/public/reply":
        return json.loads(event["body"])  # the test dictates the raw handler result
    if event["rawPath"] == "/public/boom":
        raise RuntimeError("boom")
    body = {"function": context.function_name, "remaining": context.get_remaining_time_in_millis()}
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}
"""

CONSUMER = """\
from __future__ import annotations

import json

CALLS: list[dict] = []


def lambda_handler(event, context):
    CALLS.append(event)
    failures = []
    for record in event["Records"]:
        body = json.loads(record["body"])
        if body.get("raise"):
            raise RuntimeError("the whole batch fails")
        if body.get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
"""

SCHEDULED = """\
from __future__ import annotations

EVENTS: list[dict] = []


def lambda_handler(event, context):
    EVENTS.append(event)
    if event.get("fail"):
        raise RuntimeError("weekly run failed")
    return {"fannedOut": 2}
"""


@dataclass
class TinyStack:
    stack: LocalStack
    package: str

    def module(self, function: str) -> ModuleType:
        return importlib.import_module(f"{self.package}.{function}.app")


def write_tiny_project(root: Path) -> tuple[Path, str]:
    """The tiny template and its function folders under ``root``; the package name is unique per call so that
    several tiny projects can be imported in one process."""
    package = f"tinyfns_{uuid.uuid4().hex[:8]}"
    for name, code in (("echo", ECHO), ("consumer", CONSUMER), ("scheduled", SCHEDULED)):
        folder = root / package / name
        folder.mkdir(parents=True)
        (folder / "app.py").write_text(textwrap.dedent(code))
    path = root / "template.yaml"
    path.write_text(TINY_TEMPLATE.replace("PKG/", f"{package}/"))
    return path, package


@pytest.fixture(scope="session")
def repo_template() -> Template:
    return Template.load(DEFAULT_TEMPLATE)


@pytest.fixture(scope="module")
def tiny_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyStack]:
    path, package = write_tiny_project(tmp_path_factory.mktemp("tiny"))
    stack = LocalStack(path, api_port=0, moto_port=0, sandbox_port=0, start_sandbox=False, retry_delay=0)
    with stack:
        yield TinyStack(stack, package)
