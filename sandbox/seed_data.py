"""Sample data both stand-ins are seeded with, chosen so every sync rule shows up.

Zoho ids are 19-digit strings like the real ones. The Xero side holds a few
contacts that already exist before the first sync (adoption, conflict,
archived and unrelated contacts).
"""

from __future__ import annotations

from typing import Any

XERO_TENANT_ID = "6e3b5a1c-2f4d-4c8e-9b7a-1d2c3e4f5a6b"
XERO_TENANT_NAME = "Demo Company (AU)"
XERO_SHORT_CODE = "!dEm0C"

ID_PREFIX = "5725767000000"


def account_id(n: int) -> str:
    return f"{ID_PREFIX}{400000 + n}"


def contact_id(n: int) -> str:
    return f"{ID_PREFIX}{500000 + n}"


LONG_NAME = "Northern Territory Regional Agricultural Cooperative " * 5  # 265 characters


def _account(n: int, name: str | None, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": account_id(n),
        "Account_Name": name,
        "Account_Number": f"ACC-{n:04d}",
        "Phone": None,
        "Fax": None,
        "Website": None,
        "Billing_Street": None,
        "Billing_City": None,
        "Billing_State": None,
        "Billing_Code": None,
        "Billing_Country": None,
        "Shipping_Street": None,
        "Shipping_City": None,
        "Shipping_State": None,
        "Shipping_Code": None,
        "Shipping_Country": None,
        "Add_to_Xero": True,
        "Default_Sales_Account": None,
        "Sales_Discount": None,
        "Invoices_Due_Date_Day": None,
        "Invoices_Due_Date_Frequency": None,
        "Xero_ID": None,
        "Xero_Contact_URL": None,
        "Xero_Sync_Status": None,
        "Xero_Last_Synced": None,
        "Xero_Sync_Error": None,
    }
    base.update(fields)
    return base


def _contact(
    n: int,
    account: int,
    first: str | None,
    last: str,
    email: str | None,
    primary: bool = False,
    include_in_emails: bool = False,
    **fields: Any,
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": contact_id(n),
        "First_Name": first,
        "Last_Name": last,
        "Email": email,
        "Phone": None,
        "Mobile": None,
        "Fax": None,
        "Title": None,
        "Account_Id": account_id(account),  # the stand-in turns this into the Account_Name lookup
        "Primary_Contact": primary,
        "Include_in_Emails": include_in_emails,
    }
    base.update(fields)
    return base


# Each entry says what it demonstrates; `expect` is what a sync does with it (created / updated /
# rejected: why). The README's "Seeded Accounts" table is `readme_table()`, checked by a test.
ZOHO_ACCOUNTS: list[dict[str, Any]] = [
    _account(
        1,
        "Acme Widgets Pty Ltd",
        expect="created: every mapped field filled (phones, both addresses, payment terms)",
        Phone="+61 2 9000 1000",
        Fax="+61 2 9000 1001",
        Website="https://acme.example",
        Billing_Street="PO Box 123",
        Billing_City="Sydney",
        Billing_State="NSW",
        Billing_Code="2000",
        Billing_Country="Australia",
        Shipping_Street="12 Harbour St",
        Shipping_City="Sydney",
        Shipping_State="NSW",
        Shipping_Code="2000",
        Shipping_Country="Australia",
        Default_Sales_Account="200",
        Sales_Discount=5.0,
        Invoices_Due_Date_Day=20,
        Invoices_Due_Date_Frequency="of the following month",
    ),
    _account(
        2,
        "Blue Mountain Bakery",
        expect="created: three contacts; the primary is the Xero contact's person, two more are additional people",
        Phone="+61 2 4782 0000",
        Billing_Street="1 Katoomba St",
        Billing_City="Katoomba",
        Billing_State="NSW",
        Billing_Code="2780",
        Billing_Country="Australia",
        Invoices_Due_Date_Day=14,
        Invoices_Due_Date_Frequency="day(s) after invoice date",
    ),
    _account(3, None, expect="rejected: Account Name is empty"),
    _account(
        4,
        "Coastal Surf Supplies",
        Add_to_Xero=False,
        expect="rejected: Add to Xero is not ticked (bulk runs leave it out)",
    ),
    _account(5, "Delta Logistics", expect="rejected: three contacts, none marked Primary Contact"),
    _account(6, "Evergreen Landscaping", expect="rejected: two contacts marked Primary Contact"),
    _account(
        7,
        "Fjord & Fell Outfitters",
        expect="updated: adopts the Xero contact of the same name, which has no Contact Code",
    ),
    _account(
        8,
        "Greenleaf Organics",
        expect="rejected: Xero has another contact of this name (Contact Code CUST-0042)",
    ),
    _account(
        9,
        "Café Zürich Ñandú Ltd",
        expect="created: accented letters arrive as they are",
        Billing_City="Zürich",
        Billing_Country="Switzerland",
    ),
    _account(10, LONG_NAME.strip(), expect="rejected: Account Name longer than Xero's 255 characters"),
    _account(
        11, "Harbour Dental Group", expect="rejected: the primary contact's e-mail is not one Xero accepts"
    ),
    _account(12, "Island Coffee Roasters", expect="created: no contacts (an Account alone is fine)"),
    _account(
        13,
        "Juniper Legal",
        expect="rejected: its Xero contact is archived (the Account shows *Archived in Xero*)",
    ),
    _account(
        14,
        "Kestrel Engineering",
        expect="created: seven contacts; Xero keeps five people besides the primary, a warning names the one left out",
    ),
]

ZOHO_CONTACTS: list[dict[str, Any]] = [
    _contact(
        1, 1, "Alice", "Nguyen", "alice@acme.example", Phone="+61 2 9000 1002", Mobile="+61 400 000 001"
    ),
    _contact(2, 2, "Bruno", "Rossi", "bruno@bluemountain.example", primary=True, Mobile="+61 400 000 002"),
    _contact(3, 2, "Chloe", "Smith", "accounts@bluemountain.example", include_in_emails=True),
    _contact(4, 2, "Dev", "Patel", None),
    _contact(5, 5, "Erin", "Walsh", "erin@delta.example"),
    _contact(6, 5, "Farid", "Haddad", "farid@delta.example"),
    _contact(7, 5, "Grace", "Lee", "grace@delta.example"),
    _contact(8, 6, "Hana", "Kobayashi", "hana@evergreen.example", primary=True),
    _contact(9, 6, "Ivan", "Petrov", "ivan@evergreen.example", primary=True),
    _contact(10, 7, "Jonas", "Berg", "jonas@fjordfell.example"),
    _contact(11, 8, "Kiri", "Walker", "kiri@greenleaf.example"),
    _contact(12, 9, "Léa", "Müller", "lea@cafe-zurich.example", primary=True),
    _contact(13, 11, "Mia", "Jensen", "reception@harbour", primary=True),
    _contact(14, 13, "Noah", "Clarke", "noah@juniper.example"),
    _contact(15, 14, "Olivia", "Brown", "olivia@kestrel.example", primary=True),
    *[
        _contact(16 + i, 14, first, "Kestrel", f"{first.lower()}@kestrel.example", include_in_emails=i < 2)
        for i, first in enumerate(["Paul", "Quinn", "Ruby", "Sam", "Tara", "Uma"])
    ],
]


def readme_table() -> str:
    """The README's table of seeded Accounts (`python -m sandbox.seed_data` prints it)."""
    rows = ["| Account id | name | what a sync does |", "| --- | --- | --- |"]
    for account in ZOHO_ACCOUNTS:
        rows.append(f"| `{account['id']}` | {_short_name(account['Account_Name'])} | {account['expect']} |")
    return "\n".join(rows)


def _short_name(name: str | None) -> str:
    if not name:
        return "(no name)"
    return name if len(name) <= 40 else name[:40].rstrip() + "…"


# Contacts already in Xero before any sync.
XERO_CONTACTS: list[dict[str, Any]] = [
    {
        "ContactID": "0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f01",
        "Name": "Fjord & Fell Outfitters",
        "EmailAddress": "hello@fjordfell.example",
        "ContactStatus": "ACTIVE",
    },
    {
        "ContactID": "0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f02",
        "Name": "Greenleaf Organics",
        "ContactNumber": "CUST-0042",
        "ContactStatus": "ACTIVE",
    },
    {
        "ContactID": "0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f03",
        "Name": "Juniper Legal",
        "ContactNumber": account_id(13),
        "ContactStatus": "ARCHIVED",
    },
    {
        "ContactID": "0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f04",
        "Name": "Ridgeway Hardware",
        "EmailAddress": "sales@ridgeway.example",
        "ContactStatus": "ACTIVE",
    },
    {
        "ContactID": "0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f05",
        "Name": "Tasman Freight Co",
        "ContactNumber": "SUP-0007",
        "ContactStatus": "ACTIVE",
    },
]


if __name__ == "__main__":
    print(readme_table())
