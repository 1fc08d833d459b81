"""7. Secrets: provider tokens only as KMS ciphertext at rest, decryptable only with their encryption context (company
+ provider); no token, code or client secret in any log line (the autouse ``scan_logs`` fixture checks every test of
this suite); no function with a wildcard action or resource on a data service in template.yaml."""

from __future__ import annotations

import base64
import os

import pytest

from tests.reliability.conftest import LOGS, Record
from tests.reliability.worlds import PROVIDERS, ProviderWorld


@pytest.mark.moto_server
@pytest.mark.parametrize("provider", PROVIDERS)
def test_tokens_only_kms_ciphertext_bound_to_company_and_provider(world: ProviderWorld, record: Record) -> None:
    from booksync import wiring

    # Given a connection that synced and refreshed its token
    invoice = world.new_invoice()
    assert world.resync(invoice["id"]).status == 200
    world.expire_tokens()
    wiring.token_manager().access_token("co_a", world.name)
    issued = world.issued_secrets()
    assert issued
    # When the whole table is read
    dynamodb, kms = world.aws["dynamodb"], world.aws["kms"]
    items = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=os.environ["TABLE_NAME"]):
        items += page["Items"]
    dump = repr(items)
    # Then no token, code or client secret is there in clear (nor in the ciphertext's bytes)
    leaked = [s for s in issued if s in dump]
    assert leaked == []
    token_items = [i for i in items if "token_ciphertext" in i]
    assert len(token_items) == 1
    blob = base64.b64decode(token_items[0]["token_ciphertext"]["S"])
    assert not [s for s in issued if s.encode() in blob]
    # And the ciphertext opens only with its own encryption context
    from booksync.adapters.kms import KmsTokenCipher

    right = KmsTokenCipher.context("co_a", world.name)
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=right)["Plaintext"]
    refused = 0
    for context in ({}, {**right, "company_id": "co_b"}, {**right, "provider": "other"}):
        with pytest.raises(Exception, match="InvalidCiphertext"):
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)
        refused += 1
    record("secrets_at_rest", world.name, items_scanned=len(items), token_items=len(token_items),
           secrets_checked=len(issued), clear_text_hits=len(leaked), wrong_context_refused=refused)  # fmt: skip
    LOGS.add_secrets(issued)


def test_template_no_wildcards_on_data_services(record: Record) -> None:
    from local.stack import Template
    from tests.infra.test_infra_template import (
        DATA_SERVICES,
        DESIGN_FUNCTIONS,
        _as_list,
        _function_statements,
        _resource_text,
    )

    template = Template.load()
    statements = wildcards = 0
    for function_id in sorted(DESIGN_FUNCTIONS):
        for statement in _function_statements(template, function_id):
            actions = _as_list(statement["Action"])
            if not any(str(a).startswith(DATA_SERVICES) for a in actions):
                continue
            statements += 1
            wildcards += sum("*" in str(a) for a in actions)
            for resource in _as_list(statement["Resource"]):
                text = _resource_text(resource)
                wildcards += "*" in text or "?" in text.removesuffix("-??????")  # the Secrets Manager ARN suffix
    record("template_wildcards", "all", functions=len(DESIGN_FUNCTIONS), data_statements=statements,
           wildcards=wildcards)  # fmt: skip
    assert statements > 0 and wildcards == 0
