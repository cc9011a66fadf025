"""Idempotency-Key: replay within the window, refuse reuse on a different request."""

from __future__ import annotations

from tests.sandbox.xero.conftest import XeroApi

BODY = {"Contacts": [{"Name": "Idem Co", "ContactNumber": "IDEM-1"}]}


def post(xero: XeroApi, key: str, body: dict = BODY, **params: str):
    return xero.post("/Contacts", json=body, params=params, headers={"Idempotency-Key": key})


def test_same_key_and_body_replays_without_executing_again(xero_sandbox, xero: XeroApi):
    first = post(xero, "key-1", summarizeErrors="false")
    second = post(xero, "key-1", summarizeErrors="false")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()  # same ContactID, same envelope Id
    assert len([c for c in xero_sandbox.app.contacts() if c["Name"] == "Idem Co"]) == 1
    calls = xero_sandbox.app.calls()
    assert [c.get("replayed", False) for c in calls[-2:]] == [False, True]
    # Replays still count against the rate limits.
    assert int(second.headers["X-MinLimit-Remaining"]) == int(first.headers["X-MinLimit-Remaining"]) - 1


def test_same_key_with_a_different_request_is_refused(xero: XeroApi):
    assert post(xero, "key-2").status_code == 200
    other = post(xero, "key-2", {"Contacts": [{"Name": "Something Else"}]})
    assert other.status_code == 400
    assert other.json()["Detail"] == "Idempotency Key: key-2 is used with a different request."
    # A different query string is a different request as well.
    assert post(xero, "key-2", summarizeErrors="false").status_code == 400


def test_cached_errors_are_replayed(xero_sandbox, xero: XeroApi):
    clash = {"Contacts": [{"Name": "Greenleaf Organics"}]}
    first = post(xero, "key-3", clash)
    assert first.status_code == 400
    xero_sandbox.app.put_contact({"ContactID": "0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f02", "Name": "Renamed"})
    assert post(xero, "key-3", clash).json() == first.json()  # would succeed now, but it is a replay


def test_key_expires_after_the_window(xero_sandbox, xero: XeroApi):
    first = post(xero, "key-4", summarizeErrors="false").json()["Contacts"][0]
    xero_sandbox.app.clock.advance(361)
    second = post(xero, "key-4", summarizeErrors="false").json()["Contacts"][0]
    # Executed again: POST now matches the ContactNumber and updates the same contact.
    assert second["ContactID"] == first["ContactID"] and second["UpdatedDateUTC"] != first["UpdatedDateUTC"]
    assert xero_sandbox.app.calls()[-1].get("replayed") is None


def test_keys_longer_than_128_characters_are_refused(xero: XeroApi):
    assert post(xero, "k" * 129).status_code == 400
    assert post(xero, "k" * 128).status_code == 200


def test_put_is_idempotent_too(xero_sandbox, xero: XeroApi):
    body = {"Contacts": [{"Name": "Put Idem"}]}
    first = xero.put("/Contacts", json=body, headers={"Idempotency-Key": "put-1"})
    second = xero.put("/Contacts", json=body, headers={"Idempotency-Key": "put-1"})
    assert first.status_code == second.status_code == 200  # without the key the second PUT would 400
    assert second.json() == first.json()


def test_expired_answers_are_forgotten_so_a_long_running_stand_in_stays_small(xero_sandbox, xero: XeroApi):
    """Each stored answer holds a whole response body; `make run` can run for days."""
    for n in range(5):
        post(xero, f"old-{n}", {"Contacts": [{"Name": f"Old {n}"}]})
    xero_sandbox.app.clock.advance(361)  # past the window
    post(xero, "new-1", {"Contacts": [{"Name": "New 1"}]})
    assert list(xero_sandbox.app.idempotency.entries) == ["new-1"]


def test_the_cache_never_holds_more_than_its_cap(xero_sandbox, xero: XeroApi, monkeypatch):
    from sandbox.xero import idempotency

    monkeypatch.setattr(idempotency, "MAX_ENTRIES", 3)
    for n in range(5):
        post(xero, f"cap-{n}", {"Contacts": [{"Name": f"Cap {n}"}]})
    assert list(xero_sandbox.app.idempotency.entries) == ["cap-2", "cap-3", "cap-4"]
