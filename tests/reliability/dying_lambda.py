"""Run one SQS consumer Lambda in this (child) process and kill the process the moment the provider has answered a
create of KIND: ``python -m tests.reliability.dying_lambda PROVIDER KIND QUEUE_URL FUNCTION``.

The patch point lives here only (the adapter's create method, and its batch call, wrapped in this process): the
provider stored the object and answered, and the process dies with exit status 137 (SIGKILL's) before our link is
written or the claim released, the message neither deleted nor reported failed. Exit 0 means it never got there.
"""

from __future__ import annotations

import os
import sys
from typing import Any

DIED = 137


def main(provider: str, kind: str, queue_url: str, function: str) -> int:
    import boto3

    from booksync import providers
    from functions import sync_invoice, sync_payments  # noqa: F401  (the Lambda's own import order)
    from tests.helpers import LambdaContext
    from tests.reliability.worlds import sqs_record

    adapter = providers.accounting(provider)
    cls: Any = type(adapter)
    create = getattr(cls, f"create_{kind}")

    def dying_create(self: Any, *args: Any, **kwargs: Any) -> Any:
        create(self, *args, **kwargs)
        os._exit(DIED)

    setattr(cls, f"create_{kind}", dying_create)
    many = getattr(cls, "push_many", None)
    if many is not None:

        def dying_many(self: Any, s: Any, ops: list[Any]) -> Any:
            results = many(self, s, ops)
            if any(op.kind == kind and op.action == "create" for op in ops):
                os._exit(DIED)
            return results

        cls.push_many = dying_many

    sqs = boto3.client("sqs")
    msgs = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
    if not msgs:
        return 3
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    module = __import__(f"functions.{function}.app", fromlist=["lambda_handler"])
    module.lambda_handler({"Records": [sqs_record(m, arn) for m in msgs]}, LambdaContext())
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
