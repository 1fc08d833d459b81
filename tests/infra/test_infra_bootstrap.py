"""The local stack's bootstrap creates what template.yaml declares, in moto server over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from local.stack import LocalStack, Template
from local.stack.bootstrap import Bootstrap
from local.stack.resolver import Resolver
from local.stack.servers import sandbox_env
from local.stack.template import referenced_logical_id

pytestmark = pytest.mark.moto_server


@pytest.fixture(scope="module")
def stack(repo_template: Template) -> Iterator[LocalStack]:
    # preload=False: these tests are about resources and env, not the application handlers
    base_env = {"QUICKBOOKS_API_URL": "http://proxy.test/qbo", "XERO_CLIENT_ID": "my-xero-app"}
    with LocalStack(
        repo_template,
        api_port=0,
        moto_port=0,
        sandbox_port=0,
        start_sandbox=False,
        start_pollers=False,
        preload=False,
        base_env=base_env,
    ) as s:
        yield s


def test_bootstrap_creates_every_table_of_the_template(stack: LocalStack, repo_template: Template) -> None:
    ddb = stack.client("dynamodb")
    for lid, res in repo_template.of_type("AWS::DynamoDB::Table").items():
        props = res["Properties"]
        table = ddb.describe_table(TableName=stack.resources[lid]["name"])["Table"]
        assert table["KeySchema"] == props["KeySchema"]
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(props["AttributeDefinitions"], key=str)
        gsis = {g["IndexName"]: (g["KeySchema"], g["Projection"]) for g in table.get("GlobalSecondaryIndexes", [])}
        assert gsis == {g["IndexName"]: (g["KeySchema"], g["Projection"]) for g in props["GlobalSecondaryIndexes"]}
        ttl = ddb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
        assert ttl == {
            "TimeToLiveStatus": "ENABLED",
            "AttributeName": props["TimeToLiveSpecification"]["AttributeName"],
        }
        backups = ddb.describe_continuous_backups(TableName=table["TableName"])["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert len(ddb.list_tables()["TableNames"]) == len(repo_template.of_type("AWS::DynamoDB::Table"))


def test_bootstrap_creates_every_queue_with_its_attributes(stack: LocalStack, repo_template: Template) -> None:
    sqs = stack.client("sqs")
    queues = repo_template.queues()
    assert len(sqs.list_queues()["QueueUrls"]) == len(queues)
    for lid, res in queues.items():
        props = res["Properties"]
        attrs = sqs.get_queue_attributes(QueueUrl=stack.queue_url(lid), AttributeNames=["All"])["Attributes"]
        assert attrs["FifoQueue" if props.get("FifoQueue") else "QueueArn"] == (
            "true" if props.get("FifoQueue") else stack.resources[lid]["arn"]
        )
        assert attrs["QueueArn"] == stack.resources[lid]["arn"]
        if "VisibilityTimeout" in props:
            assert int(attrs["VisibilityTimeout"]) == props["VisibilityTimeout"]
        if "MessageRetentionPeriod" in props:
            assert int(attrs["MessageRetentionPeriod"]) == props["MessageRetentionPeriod"]
        if "RedrivePolicy" in props:
            redrive = json.loads(attrs["RedrivePolicy"])
            dlq = referenced_logical_id(props["RedrivePolicy"]["deadLetterTargetArn"])
            assert redrive["deadLetterTargetArn"] == stack.resources[dlq]["arn"]
            assert int(redrive["maxReceiveCount"]) == props["RedrivePolicy"]["maxReceiveCount"]


def test_bootstrap_creates_the_token_key_with_rotation_and_alias(stack: LocalStack, repo_template: Template) -> None:
    kms = stack.client("kms")
    (key_lid,) = repo_template.of_type("AWS::KMS::Key")
    key_id = stack.resources[key_lid]["key_id"]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    (alias_lid,) = repo_template.of_type("AWS::KMS::Alias")
    alias = stack.resources[alias_lid]["name"]
    assert kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"] == key_id
    blob = kms.encrypt(KeyId=stack.env["TOKEN_KMS_KEY_ID"], Plaintext=b"t", EncryptionContext={"c": "1"})
    assert kms.decrypt(CiphertextBlob=blob["CiphertextBlob"], EncryptionContext={"c": "1"})["Plaintext"] == b"t"


def test_bootstrap_creates_the_schedule_targeting_the_function(stack: LocalStack, repo_template: Template) -> None:
    scheduler = stack.client("scheduler")
    (spec,) = repo_template.schedules()
    schedules = scheduler.list_schedules()["Schedules"]
    assert [s["Name"] for s in schedules] == [spec.default_name]
    detail = scheduler.get_schedule(Name=spec.default_name)
    assert detail["ScheduleExpression"] == "cron(0 6 ? * SUN *)"
    assert detail["ScheduleExpressionTimezone"] == "UTC"
    assert detail["State"] == "ENABLED"
    assert detail["Target"]["Arn"] == stack.resources[spec.function_id]["arn"]
    assert json.loads(detail["Target"]["Input"]) == {"source": "blueclerk.scheduler", "job": "weekly_sync"}
    assert detail["Target"]["DeadLetterConfig"]["Arn"] == stack.resources["WeeklySyncScheduleDLQ"]["arn"]
    assert (
        detail["Target"]["RetryPolicy"]["MaximumRetryAttempts"]
        == spec.properties["RetryPolicy"]["MaximumRetryAttempts"]
    )


def test_bootstrap_is_idempotent(stack: LocalStack, repo_template: Template) -> None:
    # Given a bootstrapped server / When the bootstrap runs again / Then it finds the same resources, adds none
    assert stack.resolver is not None
    sandbox = "http://127.0.0.1:4010"
    again = Bootstrap(
        repo_template,
        Resolver(repo_template, moto_url=stack.moto_url, api_url=stack.api_url),
    ).run(sandbox_url=sandbox, sandbox_env=sandbox_env(sandbox), base_env=stack.base_env)
    assert again.resources == stack.resources
    assert again.env == stack.env
    # (moto adds a key of its own for the table's SSE: count the keys the bootstrap tagged)
    kms = stack.client("kms")
    tags = [kms.list_resource_tags(KeyId=k["KeyId"])["Tags"] for k in kms.list_keys()["Keys"]]
    tagged = [t for t in tags if any(tag["TagKey"] == "local:logical-id" for tag in t)]
    assert len(tagged) == len(repo_template.of_type("AWS::KMS::Key"))
    assert len(stack.client("sqs").list_queues()["QueueUrls"]) == len(repo_template.queues())


def test_bootstrap_env_resolves_every_template_reference(stack: LocalStack) -> None:
    env = stack.env
    assert env["TABLE_NAME"] == stack.resources["DataTable"]["name"]
    assert env["INVOICE_SYNC_QUEUE_URL"] == stack.queue_url("InvoiceSyncQueue")
    assert env["PAYMENT_SYNC_QUEUE_URL"] == stack.queue_url("PaymentSyncQueue")
    assert env["IMPORT_QUEUE_URL"] == stack.queue_url("ImportQueue")
    assert env["TOKEN_KMS_KEY_ID"] == stack.resources["TokenKey"]["key_id"]
    assert env["API_BASE_URL"] == stack.api_url
    assert env["AWS_ENDPOINT_URL"] == stack.moto_url
    assert env["QUICKBOOKS_CLIENT_SECRET_NAME"] == "blueclerk/quickbooks/client-secret"
    for fid, fenv in stack.function_env.items():
        assert set(stack.template_env[fid]) <= set(fenv)
        assert fenv["AWS_ENDPOINT_URL"] == stack.moto_url
        assert not [v for v in fenv.values() if "${" in v or "localapi" in v]
    assert stack.outputs["ApiUrl"] == stack.api_url
    assert stack.outputs["ImportDLQUrl"] == stack.queue_url("ImportDLQ")


def test_bootstrap_env_points_providers_at_the_sandbox_unless_already_set(stack: LocalStack) -> None:
    env = stack.env
    assert env["QUICKBOOKS_API_URL"] == "http://proxy.test/qbo"  # set in the process environment: kept
    assert env["XERO_CLIENT_ID"] == "my-xero-app"
    # no sandbox started: the default sandbox address, real paths below the provider prefix (API.md)
    assert env["XERO_API_URL"] == "http://127.0.0.1:4010/xero"
    assert env["QUICKBOOKS_TOKEN_URL"] == "http://127.0.0.1:4010/quickbooks/oauth2/v1/tokens/bearer"
    assert env["WAVE_CLIENT_ID"] == "local-wave-client"
    assert env["WAVE_CLIENT_SECRET"] == "local-wave-secret"


def test_bootstrap_puts_client_secrets_under_their_names(stack: LocalStack) -> None:
    secret = stack.client("secretsmanager").get_secret_value(SecretId=stack.env["XERO_CLIENT_SECRET_NAME"])
    assert secret["SecretString"] == stack.env["XERO_CLIENT_SECRET"]
