"""Deterministic synthetic Xero contacts for benchmarks and paging tests."""

from __future__ import annotations

import random
import uuid
from typing import Any

ADJECTIVES = [
    "Northern",
    "Coastal",
    "Golden",
    "Silver",
    "Harbour",
    "Summit",
    "Red Gum",
    "Blue Wren",
    "Outback",
    "Cedar",
]
NOUNS = [
    "Plumbing",
    "Logistics",
    "Bakery",
    "Consulting",
    "Electrical",
    "Landscapes",
    "Dental",
    "Motors",
    "Textiles",
    "Labs",
]
SUFFIXES = ["Pty Ltd", "Ltd", "& Co", "Group", "Partners"]
FIRST = ["Ava", "Ben", "Chen", "Dina", "Eli", "Fay", "Gus", "Hiro", "Isla", "Jai", "Kai", "Lena"]
LAST = ["Smith", "Nguyen", "Patel", "Brown", "Wilson", "Taylor", "Lee", "Martin", "Singh", "Kelly"]
CITIES = [
    ("Sydney", "NSW", "2000"),
    ("Melbourne", "VIC", "3000"),
    ("Brisbane", "QLD", "4000"),
    ("Perth", "WA", "6000"),
]


def generate_contacts(n: int, seed: int = 0, *, archived_ratio: float = 0.05) -> list[dict[str, Any]]:
    """`n` Xero-shaped contacts; the same `(n, seed)` always gives the same contacts.

    Names and ContactNumbers embed the seed and index, so they are unique and do not clash with
    the seed data. About `archived_ratio` of them are ARCHIVED.
    """
    rng = random.Random(seed)
    return [_contact(rng, seed, i, archived_ratio) for i in range(n)]


def _contact(rng: random.Random, seed: int, i: int, archived_ratio: float) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {seed}-{i:06d} {rng.choice(SUFFIXES)}"
    domain = f"syn{seed}-{i}.example"
    city, region, postcode = rng.choice(CITIES)
    return {
        "ContactID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "ContactNumber": f"SYN-{seed}-{i:06d}",
        "ContactStatus": "ARCHIVED" if rng.random() < archived_ratio else "ACTIVE",
        "Name": company,
        "FirstName": first,
        "LastName": last,
        "EmailAddress": f"{first.lower()}.{last.lower()}@{domain}",
        "Addresses": [
            {
                "AddressType": "STREET",
                "AddressLine1": f"{rng.randint(1, 999)} Example St",
                "City": city,
                "Region": region,
                "PostalCode": postcode,
                "Country": "Australia",
            },
        ],
        "Phones": [
            {
                "PhoneType": "DEFAULT",
                "PhoneNumber": f"{rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                "PhoneAreaCode": "02",
                "PhoneCountryCode": "61",
            }
        ],
    }
