"""Test environment. moto is imported and the AWS environment is set before any application import."""

from __future__ import annotations

import os

import moto  # noqa: F401  (must come before boto3 clients are built: STYLE.md section 11)

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TABLE_NAME": "blueclerk-test",
        "INVOICE_SYNC_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/invoice-sync.fifo",
        "PAYMENT_SYNC_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/payment-sync.fifo",
        "IMPORT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/import.fifo",
        "FRONTEND_URL": "http://frontend.test",
        "API_BASE_URL": "http://api.test",
        "POWERTOOLS_SERVICE_NAME": "booksync-test",
        "POWERTOOLS_METRICS_NAMESPACE": "BlueClerkTest",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

from local.moto_atomic import make_dynamodb_atomic

make_dynamodb_atomic()  # DynamoDB's conditional writes are atomic; moto's need a lock across threads
