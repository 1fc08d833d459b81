"""The DynamoDB stand-in must grant a conditional claim to exactly one of many concurrent writers."""

from __future__ import annotations

import sys
import threading

import boto3
from moto import mock_aws

from local.moto_atomic import make_dynamodb_atomic


def test_one_winner_per_round_among_concurrent_conditional_writers() -> None:
    # Without the lock, moto lets several writers pass the same condition once threads are preempted inside its
    # update (seen: 5 rounds of 40 with more than one winner); a tiny switch interval provokes exactly that.
    make_dynamodb_atomic()
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        _rounds()
    finally:
        sys.setswitchinterval(previous)


def _rounds() -> None:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        )
        for round_ in range(40):
            ddb.put_item(TableName="t", Item={"pk": {"S": f"lease{round_}"}})
            winners: list[int] = []
            errors: list[BaseException] = []
            barrier = threading.Barrier(16)

            def take(
                n: int,
                key: str = f"lease{round_}",
                barrier: threading.Barrier = barrier,
                winners: list[int] = winners,
                errors: list[BaseException] = errors,
            ) -> None:
                barrier.wait()
                try:
                    ddb.update_item(
                        TableName="t",
                        Key={"pk": {"S": key}},
                        UpdateExpression="SET o = :o",
                        ConditionExpression="attribute_not_exists(o)",
                        ExpressionAttributeValues={":o": {"N": str(n)}},
                    )
                    winners.append(n)
                except ddb.exceptions.ConditionalCheckFailedException:
                    pass
                except Exception as exc:  # e.g. moto's handler copying an item another request is changing
                    errors.append(exc)

            threads = [threading.Thread(target=take, args=(n,)) for n in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert errors == [], f"round {round_}: {errors[:1]}"
            assert len(winners) == 1, f"round {round_}: {len(winners)} writers won the same claim"
