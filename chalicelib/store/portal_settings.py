"""The portal's own small records in the state table.

    SETTINGS#portal  sk SETTINGS   what an admin set in the portal (run summary e-mail)
    SIGNIN#{ip}      sk SIGNIN     wrong-password counter per address, per window (TTL)
    SIGNIN#*         sk SIGNIN     the same counter over every address (TTL)
    SESSION#{sid}    sk REVOKED    a signed-out session, kept until its cookie would expire (TTL)
    OAUTH#{state}    sk OAUTH      a connect attempt's state, consumed once by its callback (TTL)

Counters are shared by every Lambda (a conditional DynamoDB ADD, counted before the password
is checked), so throttling holds however many requests or instances answer the sign-in page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chalicelib.models.portal import PortalSettings, ThrottleVerdict
from chalicelib.store import _dynamo as d
from chalicelib.store import schema as s

SETTINGS_PK = "SETTINGS#portal"
SETTINGS_SK = "SETTINGS"
SIGNIN_PREFIX = "SIGNIN#"
SIGNIN_SK = "SIGNIN"
SESSION_PREFIX = "SESSION#"
REVOKED_SK = "REVOKED"
OAUTH_PREFIX = "OAUTH#"
OAUTH_SK = "OAUTH"
MAX_RECIPIENTS = 20


class PortalSettingsRepository:
    def __init__(self, client: Any, table_name: str, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    def get(self) -> PortalSettings:
        item = self._client.get_item(
            TableName=self._table, Key=s.key(SETTINGS_PK, SETTINGS_SK), ConsistentRead=True
        ).get("Item")
        if not item:
            return PortalSettings()
        values = d.from_item(item)
        return PortalSettings(
            summary_recipients=[str(r) for r in values.get("summary_recipients") or []],
            summary_only_problems=bool(values.get("summary_only_problems", False)),
            updated_at=d.as_float(values.get("updated_at")),
        )

    def save(self, settings: PortalSettings) -> PortalSettings:
        if len(settings.summary_recipients) > MAX_RECIPIENTS:
            raise ValueError(f"at most {MAX_RECIPIENTS} recipients")
        stored = PortalSettings(
            summary_recipients=list(settings.summary_recipients),
            summary_only_problems=settings.summary_only_problems,
            updated_at=self._clock(),
        )
        item = {
            s.PK: SETTINGS_PK,
            s.SK: SETTINGS_SK,
            "entity": "PORTAL_SETTINGS",
            "summary_recipients": stored.summary_recipients,
            "summary_only_problems": stored.summary_only_problems,
            "updated_at": stored.updated_at,
        }
        self._client.put_item(TableName=self._table, Item=d.to_item(item))
        return stored


class SignInThrottle:
    """At most `per_address` password checks that failed per address, and `overall` in total, per window.

    Every attempt is counted *before* its password is checked, by a conditional write that
    only succeeds below the limit (DynamoDB applies each one atomically), so however many
    requests arrive at once, at most `per_address` passwords per address are ever checked in a
    window. A right password gives its slot back (`succeeded`). Fixed windows (the window
    start is part of the key) keep the items small; they expire on their own. The overall cap
    bounds guessing from many addresses without letting one address lock the admin out.
    """

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        per_address: int = 5,
        overall: int = 100,
        window_seconds: float = 900.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._table = table_name
        self.per_address = per_address
        self.overall = overall
        self.window = window_seconds
        self._clock = clock

    def attempt(self, address: str) -> ThrottleVerdict:
        """Count one sign-in attempt; allowed only while both counters are below their limits."""
        window_start = self._window_start()
        refused = ThrottleVerdict(False, window_start + self.window - self._clock())
        if not self._take(address, self.per_address, window_start):
            return refused
        if not self._take("*", self.overall, window_start):
            self._give_back(address, window_start)
            return refused
        return ThrottleVerdict(True)

    def succeeded(self, address: str) -> None:
        """The password was right: that attempt no longer counts against the address."""
        window_start = self._window_start()
        for who in (address, "*"):
            self._give_back(who, window_start)

    def _take(self, who: str, limit: int, window_start: float) -> bool:
        return d.write_if(
            self._client.update_item,
            TableName=self._table,
            Key=self._key(who, window_start),
            UpdateExpression="ADD #f :one SET #ttl = :ttl, #e = :e",
            ConditionExpression="attribute_not_exists(#f) OR #f < :limit",
            ExpressionAttributeNames={"#f": "failures", "#ttl": s.TTL, "#e": "entity"},
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":limit": {"N": str(limit)},
                ":ttl": {"N": str(int(window_start + 2 * self.window))},
                ":e": {"S": "SIGNIN_FAILURES"},
            },
        )

    def _give_back(self, who: str, window_start: float) -> None:
        d.write_if(  # already given back (or never taken): nothing to do
            self._client.update_item,
            TableName=self._table,
            Key=self._key(who, window_start),
            UpdateExpression="ADD #f :minus",
            ConditionExpression="#f > :zero",
            ExpressionAttributeNames={"#f": "failures"},
            ExpressionAttributeValues={":minus": {"N": "-1"}, ":zero": {"N": "0"}},
        )

    def _window_start(self) -> float:
        now = self._clock()
        return now - (now % self.window)

    def _key(self, who: str, window_start: float) -> d.Item:
        return s.key(_pk(who, window_start), SIGNIN_SK)


def _pk(who: str, window_start: float) -> str:
    return f"{SIGNIN_PREFIX}{who}#{int(window_start)}"


class SessionRevocations:
    """Signed-out sessions: a cookie is only as good as its signature *and* this list."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def revoke(self, sid: str, until: float) -> None:
        item = {
            s.PK: SESSION_PREFIX + sid,
            s.SK: REVOKED_SK,
            "entity": "REVOKED_SESSION",
            s.TTL: int(until) + 60,
        }
        self._client.put_item(TableName=self._table, Item=d.to_item(item))

    def is_revoked(self, sid: str) -> bool:
        response = self._client.get_item(
            TableName=self._table, Key=s.key(SESSION_PREFIX + sid, REVOKED_SK), ConsistentRead=True
        )
        return "Item" in response


class OAuthStates:
    """Connect attempts started in the portal, each usable once.

        OAUTH#{state}  sk OAUTH   provider, the starting session's sid, expires_at (TTL)

    The callback *consumes* the state with a conditional delete: the first callback that
    names it (for its provider, session and time) wins; a replay finds nothing, whatever
    cookie it carries.
    """

    def __init__(self, client: Any, table_name: str, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    def remember(self, state: str, provider: str, sid: str, expires_at: float) -> None:
        item = {
            s.PK: OAUTH_PREFIX + state,
            s.SK: OAUTH_SK,
            "entity": "OAUTH_STATE",
            "provider": provider,
            "sid": sid,
            "expires_at": expires_at,
            s.TTL: int(expires_at) + 60,
        }
        self._client.put_item(TableName=self._table, Item=d.to_item(item))

    def consume(self, state: str, provider: str, sid: str) -> bool:
        """True once for a stored, unexpired state of this provider and session; then gone."""
        if not state or len(state) > 128:
            return False
        return d.write_if(
            self._client.delete_item,
            TableName=self._table,
            Key=s.key(OAUTH_PREFIX + state, OAUTH_SK),
            ConditionExpression="attribute_exists(#pk) AND #p = :p AND #sid = :sid AND #exp > :now",
            ExpressionAttributeNames={"#pk": s.PK, "#p": "provider", "#sid": "sid", "#exp": "expires_at"},
            ExpressionAttributeValues={
                ":p": {"S": provider},
                ":sid": {"S": sid},
                ":now": d.to_attr(self._clock()),
            },
        )
