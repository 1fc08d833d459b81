"""What a Lambda's init phase loads (issue 9: "no heavy work at import; import only the provider a message needs").

Each handler is imported in a fresh interpreter, as Lambda's init does, and the modules it left loaded are checked.
Times are measured by ``make bench``; these tests pin the reasons the times are what they are, so an innocent import
at the top of a module cannot quietly bring them back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.parent.name for p in (ROOT / "functions").glob("*/app.py"))
SQS_CONSUMERS = ["sync_payments", "import_changes", "notify_failures"]
HTTP_FUNCTIONS = ["api", "sync_invoice", "oauth_callback"]

# Loaded on first use by the message or request that needs them, never at init.
NEVER_AT_INIT = [
    "booksync.providers.quickbooks.accounting",
    "booksync.providers.xero.accounting",
    "booksync.providers.freshbooks.accounting",
    "booksync.providers.wave.accounting",
    "booksync.sync.engine",
    "booksync.adapters.dynamodb",
    "pynamodb",
    "httpx",
    # Powertools' other resolvers and event classes: event_handler/__init__ imports AppSync (asyncio, ssl) and
    # data_classes/__init__ every event; booksync.lazy_packages loads only what a name needs (~25 ms of api init)
    "aws_lambda_powertools.event_handler.appsync",
    "aws_lambda_powertools.utilities.data_classes.code_pipeline_job_event",
]


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter with the layer on the path, as Lambda's init would; its stdout."""
    env = dict(
        os.environ,
        PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'common'}",
        TABLE_NAME="cold-start-test",
        AWS_DEFAULT_REGION="us-east-1",
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout


def _loaded_after_import(function: str) -> set[str]:
    code = f"import json, sys\nimport functions.{function}.app\nprint(json.dumps(sorted(sys.modules)))\n"
    return set(json.loads(_python(code).strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def loaded() -> dict[str, set[str]]:
    return {fn: _loaded_after_import(fn) for fn in FUNCTIONS}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_init_loads_no_provider_client_engine_or_database_driver(function: str, loaded: dict[str, set[str]]) -> None:
    early = [m for m in NEVER_AT_INIT if m in loaded[function]]
    assert early == [], f"functions/{function}/app.py loads {early} at import; import them where a message needs them"


@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
def test_http_functions_load_no_event_loop(function: str, loaded: dict[str, set[str]]) -> None:
    # asyncio (with ssl, socket, subprocess: ~20 ms) came only through Powertools' AppSync resolver; the batch
    # utility the SQS consumers need imports it itself, and sync_invoice imports that only for an SQS event
    assert "asyncio" not in loaded[function]


@pytest.mark.parametrize("function", SQS_CONSUMERS)
def test_sqs_consumers_import_the_batch_utility_before_pydantic(function: str, loaded: dict[str, set[str]]) -> None:
    # Powertools' batch types import every parser model (SQS, Kinesis, DynamoDB, Kafka) when pydantic is already
    # loaded; importing the batch utility first skips ~30 ms of model classes no handler here uses.
    parser_models = sorted(m for m in loaded[function] if m.startswith("aws_lambda_powertools.utilities.parser.models"))
    assert parser_models == [], f"{function}: {parser_models[:3]} loaded at init"


def test_import_function_loads_the_import_service_only_for_import_messages(loaded: dict[str, set[str]]) -> None:
    # a backfill message never needs the importers' service (classification, matching, checkpoints)
    assert "booksync.imports.service" not in loaded["import_changes"]
    assert "booksync.imports.budget" in loaded["import_changes"]


def test_the_api_builds_no_model_of_ours_at_import() -> None:
    code = (
        "import pydantic._internal._model_construction as mc\n"
        "built = []\n"
        "orig = mc.complete_model_class\n"
        "def spy(cls, *a, **k):\n"
        "    built.append(cls.__module__ + '.' + cls.__qualname__)\n"
        "    return orig(cls, *a, **k)\n"
        "mc.complete_model_class = spy\n"
        "import functions.api.app\n"
        "print('\\n'.join(b for b in built if b.startswith('booksync.') and 'Deferred' not in b))\n"
    )
    built = _python(code).split()
    assert built == [], f"models validated at import instead of first use: {built}"
