from __future__ import annotations

from typing import Any

import pytest

from chalicelib.store import schema
from chalicelib.store.schema import TABLE_DEFINITION, create_table


def test_create_table_builds_the_documented_table(ddb: Any) -> None:
    create_table(ddb, "t1")

    table = ddb.describe_table(TableName="t1")["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == TABLE_DEFINITION["KeySchema"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    (index,) = table["GlobalSecondaryIndexes"]
    expected_index = TABLE_DEFINITION["GlobalSecondaryIndexes"][0]
    assert index["IndexName"] == "gsi1"
    assert index["KeySchema"] == expected_index["KeySchema"]
    assert index["Projection"] == expected_index["Projection"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(
        TABLE_DEFINITION["AttributeDefinitions"], key=str
    )
    ttl = ddb.describe_time_to_live(TableName="t1")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}


def test_create_table_is_idempotent_and_keeps_data(ddb: Any) -> None:
    create_table(ddb, "t1")
    ddb.put_item(TableName="t1", Item={"pk": {"S": "A"}, "sk": {"S": "B"}})

    create_table(ddb, "t1")  # exists, TTL already on: neither may raise

    assert ddb.get_item(TableName="t1", Key={"pk": {"S": "A"}, "sk": {"S": "B"}}).get("Item")
    assert ddb.list_tables()["TableNames"] == ["t1"]


def test_table_definition_is_cloudformation_shaped() -> None:
    # The keys a template's AWS::DynamoDB::Table Properties will be compared against.
    assert set(TABLE_DEFINITION) == {
        "BillingMode",
        "AttributeDefinitions",
        "KeySchema",
        "GlobalSecondaryIndexes",
        "TimeToLiveSpecification",
    }
    assert TABLE_DEFINITION["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}


@pytest.mark.parametrize(
    "build",
    [
        lambda: schema.account_pk(""),
        lambda: schema.token_pk(""),
        lambda: schema.lock_pk(""),
        lambda: schema.xero_contact_gsi1pk("tenant", ""),
    ],
)
def test_empty_ids_are_refused(build: Any) -> None:
    with pytest.raises(ValueError):
        build()


def test_key_prefixes_do_not_collide() -> None:
    prefixes = [
        schema.ACCOUNT_PREFIX,
        schema.TOKEN_PREFIX,
        schema.LOCK_PREFIX,
        schema.XERO_PREFIX,
        schema.RUN_PREFIX,
        schema.BUDGET_PREFIX,
    ]
    assert len(set(prefixes)) == len(prefixes)
    assert not any(a != b and a.startswith(b) for a in prefixes for b in prefixes)
