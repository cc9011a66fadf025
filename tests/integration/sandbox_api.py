"""Small helpers over the stand-ins' admin APIs (`/__sandbox__/…`), for readable tests."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.seed_data import account_id


def acct(n: int) -> str:
    return account_id(n)


class Xero:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url + "/__sandbox__", timeout=30)

    def contacts(self) -> list[dict[str, Any]]:
        body = self.http.get("/contacts").raise_for_status().json()
        return body["Contacts"] if isinstance(body, dict) else body

    def with_number(self, number: str) -> list[dict[str, Any]]:
        return [c for c in self.contacts() if c.get("ContactNumber") == number]

    def named(self, name: str) -> list[dict[str, Any]]:
        return [c for c in self.contacts() if c.get("Name") == name]

    def calls(self) -> list[dict[str, Any]]:
        body = self.http.get("/calls").raise_for_status().json()
        return body["calls"] if isinstance(body, dict) else body

    def count(self, method: str, path: str) -> int:
        return sum(1 for c in self.calls() if c["method"] == method and c["path"].rstrip("/") == path)

    def contact_writes(self) -> int:
        return sum(
            1
            for c in self.calls()
            if c["method"] in ("POST", "PUT") and c["path"].startswith("/api.xro/2.0/Contacts")
        )

    def fault(self, **fault: Any) -> None:
        self.http.post("/faults", json=fault).raise_for_status()

    def advance(self, seconds: float) -> None:
        self.http.post("/clock", json={"advance": seconds}).raise_for_status()

    def put_contact(self, contact: dict[str, Any]) -> None:
        self.http.post("/contacts", json=contact).raise_for_status()

    def configure(self, **options: Any) -> None:
        self.http.post("/config", json=options).raise_for_status()


class Zoho:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url + "/__sandbox__", timeout=60)

    def account(self, record_id: str) -> dict[str, Any]:
        body = self.http.get(f"/records/Accounts/{record_id}").raise_for_status().json()
        return body.get("data", [body])[0] if "data" in body else body

    def edit(self, module: str, record_id: str, fields: dict[str, Any]) -> None:
        self.http.patch(f"/records/{module}/{record_id}", json=fields).raise_for_status()

    def click(self, record_id: str) -> dict[str, Any]:
        return self.http.post(f"/button/{record_id}").raise_for_status().json()

    def calls(self) -> list[dict[str, Any]]:
        body = self.http.get("/calls").raise_for_status().json()
        return body["calls"] if isinstance(body, dict) else body

    def count(self, method: str, path: str) -> int:
        return sum(1 for c in self.calls() if c["method"] == method and c["path"].rstrip("/") == path)

    def webhooks(self) -> list[dict[str, Any]]:
        body = self.http.get("/webhooks").raise_for_status().json()
        return body["deliveries"] if isinstance(body, dict) else body

    def fault(self, **fault: Any) -> None:
        self.http.post("/faults", json=fault).raise_for_status()
