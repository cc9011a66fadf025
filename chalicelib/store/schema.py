"""The single table: key layout, the definition deployed stacks must match, and local creation.

Every entity lives in one table (pk/sk strings). The partition-key prefixes below
are reserved; new entities pick a new prefix so they never collide:

    ACCOUNT#{id}   sk STATE, HIST#..., SNAPSHOT   (accounts.py, history.py, snapshots.py)
    XCLAIM#{tenant}#{contact}  sk CLAIM   (snapshots.py: creating a Xero contact's Account)
    TOKEN#{provider}  sk TOKEN            (tokens.py)
    LOCK#{name}    sk LOCK                (locks.py)
    RUN#{id}       sk RUN, BATCH#n, ACCT#{account}, XIDX#n   (runs.py)
    RUNS           sk ACTIVE, LAST        (runs.py: the one-at-a-time slot, the watermark)
    BUDGET#{tenant}  sk BUDGET            (budget.py: Xero rate budget)
    PENDING#{group}  sk PENDING           (pending.py: coalesced workflow events)
    SETTINGS#portal, SIGNIN#..., SESSION#..., OAUTH#...   (portal_settings.py)
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

PK = "pk"
SK = "sk"
GSI1 = "gsi1"
GSI1_PK = "gsi1pk"
GSI1_SK = "gsi1sk"
TTL = "ttl"

ACCOUNT_PREFIX = "ACCOUNT#"
HISTORY_PREFIX = "HIST#"
TOKEN_PREFIX = "TOKEN#"
LOCK_PREFIX = "LOCK#"
XERO_PREFIX = "XERO#"
RUN_PREFIX = "RUN#"
BUDGET_PREFIX = "BUDGET#"

ACCOUNT_STATE_SK = "STATE"
TOKEN_SK = "TOKEN"
LOCK_SK = "LOCK"

# Shaped like the Properties of an AWS::DynamoDB::Table (minus TableName), so a
# CloudFormation/SAM template can be compared against it key for key. The index
# projects ALL: it is sparse (only Accounts linked to Xero carry gsi1pk), the items
# are small, and changing a projection later means rebuilding the index.
TABLE_DEFINITION: dict[str, Any] = {
    "BillingMode": "PAY_PER_REQUEST",
    "AttributeDefinitions": [
        {"AttributeName": PK, "AttributeType": "S"},
        {"AttributeName": SK, "AttributeType": "S"},
        {"AttributeName": GSI1_PK, "AttributeType": "S"},
        {"AttributeName": GSI1_SK, "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": PK, "KeyType": "HASH"},
        {"AttributeName": SK, "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": GSI1,
            "KeySchema": [
                {"AttributeName": GSI1_PK, "KeyType": "HASH"},
                {"AttributeName": GSI1_SK, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }
    ],
    "TimeToLiveSpecification": {"AttributeName": TTL, "Enabled": True},
}


def key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    """A primary key in the low-level client's attribute-value format."""
    return {PK: {"S": pk}, SK: {"S": sk}}


def account_pk(account_id: str) -> str:
    return ACCOUNT_PREFIX + _part(account_id, "account_id")


def xero_contact_gsi1pk(tenant_id: str, contact_id: str) -> str:
    return f"{XERO_PREFIX}{_part(tenant_id, 'tenant_id')}#{_part(contact_id, 'contact_id')}"


def token_pk(provider: str) -> str:
    return TOKEN_PREFIX + _part(provider, "provider")


def lock_pk(name: str) -> str:
    return LOCK_PREFIX + _part(name, "lock name")


def _part(value: str, what: str) -> str:
    # An empty id would address a shared, meaningless item such as "ACCOUNT#".
    if not value:
        raise ValueError(f"{what} must not be empty")
    return value


def create_table(client: Any, table_name: str, *, poll_seconds: float = 1.0) -> None:
    """Create the table for local runs and tests; a no-op when it already exists.

    Waits until the table is ACTIVE and makes sure TTL is enabled on `ttl`.
    Deployed stacks create the table from CloudFormation instead.
    """
    try:
        client.create_table(TableName=table_name, **_create_table_args())
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
    waiter = client.get_waiter("table_exists")
    waiter.wait(TableName=table_name, WaiterConfig={"Delay": poll_seconds, "MaxAttempts": 120})
    _enable_ttl(client, table_name)


def _create_table_args() -> dict[str, Any]:
    # CreateTable takes everything but the TTL, which is a separate call.
    return {k: v for k, v in TABLE_DEFINITION.items() if k != "TimeToLiveSpecification"}


def _enable_ttl(client: Any, table_name: str) -> None:
    # UpdateTimeToLive fails with ValidationException when TTL is already on.
    current = client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        return
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"AttributeName": TTL, "Enabled": True}
    )
