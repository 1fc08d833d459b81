"""template.yaml against the contracts of docs/DESIGN.md and the rules of STYLE.md section 10."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from local.stack import Template
from local.stack.template import REPO_ROOT, referenced_logical_id

# docs/DESIGN.md "Functions": logical id -> folder
DESIGN_FUNCTIONS = {
    "ApiFunction": "functions/api",
    "SyncInvoiceFunction": "functions/sync_invoice",
    "SyncPaymentsFunction": "functions/sync_payments",
    "OauthCallbackFunction": "functions/oauth_callback",
    "WeeklySyncFunction": "functions/weekly_sync",
    "ImportChangesFunction": "functions/import_changes",
    "NotifyFailuresFunction": "functions/notify_failures",
}
TOKEN_FUNCTIONS = {
    "ApiFunction",
    "SyncInvoiceFunction",
    "SyncPaymentsFunction",
    "OauthCallbackFunction",
    "ImportChangesFunction",
}
# docs/DESIGN.md "HTTP routes"
API_ROUTES = [
    "GET /integrations",
    "POST /integrations/{provider}/connect",
    "DELETE /integrations/{provider}",
    "PUT /integrations/{provider}/settings",
    "GET /integrations/{provider}/accounts",
    "POST /integrations/{provider}/backfill",
    "GET /account-mappings",
    "PUT /account-mappings",
    "POST /customers",
    "GET /customers",
    "POST /customers/import",
    "GET /customers/{id}",
    "PATCH /customers/{id}",
    "POST /items",
    "GET /items",
    "GET /items/{id}",
    "PATCH /items/{id}",
    "POST /invoices",
    "GET /invoices",
    "GET /invoices/{id}",
    "PATCH /invoices/{id}",
    "POST /invoices/{id}/send",
    "POST /invoices/{id}/payments",
    "GET /notifications",
    "POST /notifications/{id}/read",
]
DESIGN_ROUTES = {
    **dict.fromkeys(API_ROUTES, ("ApiFunction", "JWT")),
    "POST /invoices/{id}/sync": ("SyncInvoiceFunction", "JWT"),
    "GET /integrations/{provider}/callback": ("OauthCallbackFunction", "NONE"),
}
# docs/DESIGN.md "Environment" (provider endpoint URLs are not in the template: they default to production in code)
PROVIDERS = ("QUICKBOOKS", "XERO", "FRESHBOOKS", "WAVE")
DESIGN_ENV = {
    "TABLE_NAME",
    "INVOICE_SYNC_QUEUE_URL",
    "PAYMENT_SYNC_QUEUE_URL",
    "IMPORT_QUEUE_URL",
    "TOKEN_KMS_KEY_ID",
    "FRONTEND_URL",
    "API_BASE_URL",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    *(f"{p}_CLIENT_ID" for p in PROVIDERS),
    *(f"{p}_CLIENT_SECRET_NAME" for p in PROVIDERS),
}
DATA_SERVICES = ("dynamodb:", "sqs:", "kms:", "secretsmanager:")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _function_statements(template: Template, function_id: str) -> list[dict[str, Any]]:
    """Inline statements and the statements of template-defined managed policies attached to the function."""
    statements: list[dict[str, Any]] = []
    for policy in template.functions()[function_id].properties.get("Policies") or []:
        if isinstance(policy, dict) and "Statement" in policy:
            statements.extend(_as_list(policy["Statement"]))
        elif isinstance(policy, dict) and (ref := referenced_logical_id(policy)) in template.resources:
            doc = template.properties(ref)["PolicyDocument"]
            statements.extend(_as_list(doc["Statement"]))
        else:
            pytest.fail(f"{function_id}: policy {policy!r} is neither inline nor a template managed policy")
    return statements


def _resource_text(resource: Any) -> str:
    if isinstance(resource, str):
        return resource
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return ".".join(resource["Fn::GetAtt"])
    return repr(resource)


def test_template_parses_with_short_form_tags(repo_template: Template) -> None:
    # Given the repo template / When loaded / Then the intrinsics are long-form dicts
    assert repo_template.data["Transform"] == "AWS::Serverless-2016-10-31"
    assert repo_template.properties("ApiFunctionLogGroup")["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${ApiFunction}"}
    assert repo_template.properties("ApiFunctionIntegration")["IntegrationUri"] == {
        "Fn::GetAtt": ["ApiFunction", "Arn"]
    }


def test_template_functions_match_design_and_folders_exist(repo_template: Template) -> None:
    functions = repo_template.functions()
    assert set(functions) == set(DESIGN_FUNCTIONS)
    for fid, folder in DESIGN_FUNCTIONS.items():
        spec = functions[fid]
        assert spec.code_uri.rstrip("/") == folder
        assert spec.handler == "app.lambda_handler"
        assert (REPO_ROOT / folder).is_dir(), f"{folder} is missing"
        assert spec.properties["Runtime"] == "python3.13"
        assert spec.properties["Architectures"] == ["arm64"]
        assert spec.properties["Layers"] == [{"Ref": "CommonLayer"}]


def test_template_layer_is_built_by_sam_from_layers_common(repo_template: Template) -> None:
    layer = repo_template.resources["CommonLayer"]
    assert layer["Properties"]["ContentUri"] == "layers/common/"
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    assert (REPO_ROOT / "layers/common/requirements.txt").is_file()


def test_template_every_function_has_its_log_group_with_retention(repo_template: Template) -> None:
    groups = {
        res["Properties"]["LogGroupName"]["Fn::Sub"]: res["Properties"]
        for res in repo_template.of_type("AWS::Logs::LogGroup").values()
        if isinstance(res["Properties"]["LogGroupName"], dict)
    }
    for fid in DESIGN_FUNCTIONS:
        props = groups.get(f"/aws/lambda/${{{fid}}}")
        assert props is not None, f"no log group for {fid}"
        assert props["RetentionInDays"] > 0


def test_template_routes_match_design_with_jwt_except_callback(repo_template: Template) -> None:
    routes = {r.route_key: (r.function_id, r.auth) for r in repo_template.http_routes()}
    assert routes == DESIGN_ROUTES


def test_template_http_api_has_authorizer_throttling_access_logs(repo_template: Template) -> None:
    api = repo_template.properties("HttpApi")
    assert api["ProtocolType"] == "HTTP"
    assert api["FailOnWarnings"] is True
    stage = repo_template.properties("HttpApiStage")
    assert stage["StageName"] == "$default"
    assert stage["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["HttpApiAccessLogGroup", "Arn"]}
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] > 0
    assert stage["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    authorizer = repo_template.properties("HttpApiJwtAuthorizer")
    assert authorizer["AuthorizerType"] == "JWT"
    assert authorizer["JwtConfiguration"] == {"Issuer": {"Ref": "JwtIssuer"}, "Audience": {"Ref": "JwtAudience"}}


def test_template_env_names_are_the_design_names(repo_template: Template) -> None:
    for fid, spec in repo_template.functions().items():
        assert set(spec.environment) == DESIGN_ENV, fid
    api_base = repo_template.functions()["ApiFunction"].environment["API_BASE_URL"]
    assert api_base == {"Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}


def test_template_secrets_are_names_never_values(repo_template: Template) -> None:
    params = repo_template.parameters
    for provider in ("Quickbooks", "Xero", "Freshbooks", "Wave"):
        assert f"{provider}ClientId" in params
        assert f"{provider}ClientSecretName" in params
    assert not [p for p in params if re.search(r"Secret(?!Name)", p)], "a secret value as a parameter"
    assert params["Stage"]["AllowedValues"]


@pytest.mark.parametrize("function_id", sorted(DESIGN_FUNCTIONS))
def test_template_function_policies_have_no_wildcards_on_data_services(
    repo_template: Template, function_id: str
) -> None:
    for statement in _function_statements(repo_template, function_id):
        actions = _as_list(statement["Action"])
        if not any(str(a).startswith(DATA_SERVICES) for a in actions):
            continue
        assert all("*" not in str(a) for a in actions), (function_id, actions)
        for resource in _as_list(statement["Resource"]):
            text = _resource_text(resource)
            # "-??????" is the random suffix of every Secrets Manager ARN, not a wildcard over secrets
            assert "*" not in text and "?" not in text.removesuffix("-??????"), (function_id, text)


def test_template_token_key_and_secrets_only_for_token_functions(repo_template: Template) -> None:
    for fid in DESIGN_FUNCTIONS:
        actions = {a for s in _function_statements(repo_template, fid) for a in _as_list(s["Action"])}
        has_tokens = {"kms:Encrypt", "kms:Decrypt", "secretsmanager:GetSecretValue"} <= actions
        assert has_tokens == (fid in TOKEN_FUNCTIONS), fid
        assert not any(str(a).startswith(("kms:", "secretsmanager:")) for a in actions) or fid in TOKEN_FUNCTIONS


def test_template_queue_sends_only_where_design_sends(repo_template: Template) -> None:
    sends: dict[str, set[str]] = {}
    for fid in DESIGN_FUNCTIONS:
        for statement in _function_statements(repo_template, fid):
            if "sqs:SendMessage" in _as_list(statement["Action"]):
                sends.setdefault(fid, set()).update(referenced_logical_id(r) for r in _as_list(statement["Resource"]))
    assert sends == {
        "ApiFunction": {"InvoiceSyncQueue", "PaymentSyncQueue", "ImportQueue"},
        "SyncInvoiceFunction": {"InvoiceSyncQueue"},  # a rate-limited push re-queued for later (deferral)
        "SyncPaymentsFunction": {"PaymentSyncQueue"},
        "OauthCallbackFunction": {"ImportQueue"},  # the backfill after a connect
        "WeeklySyncFunction": {"ImportQueue"},
        "ImportChangesFunction": {"ImportQueue"},  # a backfill's continuation
    }


def test_template_gsi_access_only_for_the_weekly_fan_out(repo_template: Template) -> None:
    index_users = {
        fid
        for fid in DESIGN_FUNCTIONS
        for s in _function_statements(repo_template, fid)
        for r in _as_list(s["Resource"])
        if "/index/" in _resource_text(r)
    }
    assert index_users == {"WeeklySyncFunction"}


def test_template_every_work_queue_has_a_dlq_with_max_receive_count(repo_template: Template) -> None:
    queues = repo_template.queues()
    dlqs = set(repo_template.redrive_sources())
    schedule_dlq = "WeeklySyncScheduleDLQ"
    work = set(queues) - dlqs - {schedule_dlq}
    assert work == {"InvoiceSyncQueue", "PaymentSyncQueue", "ImportQueue"}
    for lid in work:
        props = queues[lid]["Properties"]
        redrive = props["RedrivePolicy"]
        dlq = referenced_logical_id(redrive["deadLetterTargetArn"])
        assert redrive["maxReceiveCount"] == 5
        assert props["FifoQueue"] is True
        assert queues[dlq]["Properties"]["FifoQueue"] is True, f"{dlq} must be FIFO like {lid}"
    for lid in dlqs | {schedule_dlq}:
        assert queues[lid]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    for lid, res in queues.items():
        assert res["Properties"]["SqsManagedSseEnabled"] is True, lid


def test_template_visibility_timeout_is_six_times_consumer_timeout(repo_template: Template) -> None:
    queues = repo_template.queues()
    for source in repo_template.sqs_event_sources():
        timeout = repo_template.functions()[source.function_id].timeout
        visibility = queues[source.queue_logical_id]["Properties"]["VisibilityTimeout"]
        assert visibility >= 6 * timeout, (source.queue_logical_id, visibility, timeout)
        assert source.report_batch_item_failures, source
        assert source.batch_size <= 10


def test_template_event_sources_are_design(repo_template: Template) -> None:
    sources = {(s.function_id, s.queue_logical_id) for s in repo_template.sqs_event_sources()}
    assert sources == {
        ("SyncInvoiceFunction", "InvoiceSyncQueue"),
        ("SyncPaymentsFunction", "PaymentSyncQueue"),
        ("ImportChangesFunction", "ImportQueue"),
        ("NotifyFailuresFunction", "InvoiceSyncDLQ"),
        ("NotifyFailuresFunction", "PaymentSyncDLQ"),
        ("NotifyFailuresFunction", "ImportDLQ"),
    }


def test_template_every_dlq_has_an_alarm(repo_template: Template) -> None:
    alarmed = {
        referenced_logical_id(res["Properties"]["Dimensions"][0]["Value"])
        for res in repo_template.of_type("AWS::CloudWatch::Alarm").values()
        if res["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and res["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"
        and res["Properties"]["Threshold"] == 0
    }
    assert alarmed == set(repo_template.redrive_sources()) | {"WeeklySyncScheduleDLQ"}


def test_template_weekly_schedule_is_sunday_0600_utc_with_dlq(repo_template: Template) -> None:
    (schedule,) = repo_template.schedules()
    props = schedule.properties
    assert schedule.function_id == "WeeklySyncFunction"
    assert props["ScheduleExpression"] == "cron(0 6 ? * SUN *)"
    assert props["ScheduleExpressionTimezone"] == "UTC"
    assert props["Input"] == '{"source":"blueclerk.scheduler","job":"weekly_sync"}'
    assert props["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert props["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["WeeklySyncScheduleDLQ", "Arn"]}}
    on_failure = repo_template.functions()["WeeklySyncFunction"].properties["EventInvokeConfig"]
    assert on_failure["DestinationConfig"]["OnFailure"]["Destination"] == props["DeadLetterConfig"]["Arn"]


def test_template_table_is_single_table_design(repo_template: Template) -> None:
    res = repo_template.resources["DataTable"]
    props = res["Properties"]
    assert res["DeletionPolicy"] == res["UpdateReplacePolicy"] == "Retain"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    key = repo_template.resources["TokenKey"]["Properties"]
    assert key["EnableKeyRotation"] is True


def test_template_table_keys_equal_the_pynamodb_model(repo_template: Template) -> None:
    try:
        from booksync.adapters.dynamodb import TableRecord
    except ImportError as exc:  # the model lands with the domain code
        pytest.skip(f"booksync.adapters.dynamodb.TableRecord not importable yet: {exc}")
    schema = TableRecord._get_schema()
    props = repo_template.properties("DataTable")
    assert props["KeySchema"] == schema["key_schema"]
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(schema["attribute_definitions"], key=str)
    model_gsis = {
        g["index_name"]: {"KeySchema": g["key_schema"], "Projection": g["projection"]}
        for g in schema["global_secondary_indexes"]
    }
    template_gsis = {
        g["IndexName"]: {"KeySchema": g["KeySchema"], "Projection": g["Projection"]}
        for g in props["GlobalSecondaryIndexes"]
    }
    assert template_gsis == model_gsis
    ttl_attributes = [name for name, a in TableRecord.get_attributes().items() if type(a).__name__ == "TTLAttribute"]
    assert ttl_attributes == [props["TimeToLiveSpecification"]["AttributeName"]]


def test_template_outputs_name_api_table_and_queues(repo_template: Template) -> None:
    outputs = set(repo_template.outputs)
    assert {"ApiUrl", "DataTableName"} <= outputs
    for lid in repo_template.queues():
        assert f"{lid}Url" in outputs


def _cfn_lint() -> list[str]:
    exe = Path(sys.executable).with_name("cfn-lint")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cfnlint"]


def test_template_cfn_lint_passes() -> None:
    result = subprocess.run(
        [*_cfn_lint(), "template.yaml"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_template_cfn_lint_serverless_rules_pass() -> None:
    pytest.importorskip("cfn_lint_serverless")
    result = subprocess.run(
        [*_cfn_lint(), "template.yaml", "-a", "cfn_lint_serverless.rules"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_template_sam_validate_lint_passes() -> None:
    sam = REPO_ROOT / ".venv-sam" / "bin" / "sam"
    if not sam.exists():
        sam_path = shutil.which("sam")
        if sam_path is None:
            pytest.skip("AWS SAM CLI not installed (make setup-sam)")
        sam = Path(sam_path)
    result = subprocess.run(
        [str(sam), "validate", "--lint"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "SAM_CLI_TELEMETRY": "0", "HOME": str(Path.home())},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr
