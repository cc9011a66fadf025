"""Synthetic Accounts and Contacts for load tests and demos, deterministic for a seed.

Each Account gets 1-4 Contacts; with more than one, exactly one is primary. About 4 % of the
Accounts are deliberately wrong, one defect each, and reported back so tests know what a sync
should reject: no primary contact, an invalid e-mail on the primary, no Account name,
Add_to_Xero not ticked.
"""

from __future__ import annotations

import random
from typing import Any

from .metadata import CRM_USER_ID, DUE_DATE_FREQUENCIES
from .store import DAY, Store


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ADJECTIVES = _words(
    "Acacia Amber Apex Arcadia Aurora Banksia Bluegum Bright Cedar Coastal Copper Coral Crimson "
    "Eastern Emerald Golden Granite Harbour Highland Iron Jarrah Kookaburra Lakeside Maple "
    "Northern Ochre Pacific Red Riverbend Saltbush Silver Southern Summit Tasman Wattle Western "
    "Willow"
)
NOUNS = _words(
    "Anchor Bay Bridge Canyon Creek Crest Falcon Field Forge Gate Grove Harvest Heron Hill "
    "Island Lantern Meadow Orchard Peak Pelican Quarry Range Reef Ridge Shore Spring Stone "
    "Valley Wharf"
)
TRADES = _words(
    "Bakery Builders Cafe Carpentry Consulting Dental Electrical Engineering Farms Freight "
    "Hardware Landscaping Legal Logistics Plumbing Printing Roasters Surveying Traders "
    "Vineyards"
)
SUFFIXES = ("Pty Ltd", "Ltd", "Co", "Group", "& Sons")
FIRST_NAMES = _words(
    "Ava Ben Chloe Daniel Ella Finn Grace Harry Isla Jack Kai Liam Mia Noah Olivia Priya Quinn "
    "Ruby Sam Tara Uma Vikram Willow Xavier Yasmin Zoe"
)
LAST_NAMES = _words(
    "Anderson Brown Chen Davies Evans Fraser Garcia Hughes Ito Jones Kelly Lee Martin Nguyen "
    "OBrien Patel Quinn Roberts Singh Taylor Underwood Walker Young Zhang"
)
DEFECTS = ("no_primary", "bad_email", "missing_name", "not_in_xero")
DEFECT_RATE = 0.04


def _names(rng: random.Random, n: int) -> list[str]:
    """n distinct company names (a counter is added once the word combinations run out)."""
    combos = len(ADJECTIVES) * len(NOUNS) * len(TRADES) * len(SUFFIXES)
    picks = rng.sample(range(combos), min(n, combos))
    names = []
    for i in range(n):
        k = picks[i % len(picks)]
        k, suffix = divmod(k, len(SUFFIXES))
        k, trade = divmod(k, len(TRADES))
        adjective, noun = divmod(k, len(NOUNS))
        name = f"{ADJECTIVES[adjective]} {NOUNS[noun]} {TRADES[trade]} {SUFFIXES[suffix]}"
        names.append(name if i < combos else f"{name} {i // combos + 1}")
    return names


def generate(store: Store, n: int, seed: int, now: float) -> dict[str, Any]:
    rng = random.Random(seed)
    defects: dict[str, list[str]] = {name: [] for name in DEFECTS}
    contacts = 0
    for name in _names(rng, n):
        defect = rng.choice(DEFECTS) if rng.random() < DEFECT_RATE else None
        account = _account(store, rng, name, defect, now)
        if defect:
            defects[defect].append(account["id"])
        contacts += _contacts(store, rng, account, defect, now)
    return {"accounts": n, "contacts": contacts, "seed": seed, "defects": defects}


def _times(rng: random.Random, now: float) -> dict[str, int]:
    created = now - rng.uniform(1, 90) * DAY
    modified = created + rng.uniform(0, now - created)
    return {"Created_Time": int(created), "Modified_Time": int(modified)}


def _domain(name: str) -> str:
    return "".join(ch for ch in name.lower().split(" pty")[0] if ch.isalnum())[:24] + ".example"


def _account(store: Store, rng: random.Random, name: str, defect: str | None, now: float) -> dict[str, Any]:
    number = len(store.modules["Accounts"]) + 1
    values: dict[str, Any] = {
        "Account_Name": None if defect == "missing_name" else name,
        "Account_Number": f"GEN-{number:06d}",
        "Phone": f"+61 2 {rng.randint(8000, 9999)} {rng.randint(1000, 9999)}",
        "Website": f"https://www.{_domain(name)}",
        "Billing_City": rng.choice(("Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide", "Hobart")),
        "Billing_Country": "Australia",
        "Add_to_Xero": defect != "not_in_xero",
        "Invoices_Due_Date_Day": rng.choice((7, 14, 20, 30)),
        "Invoices_Due_Date_Frequency": rng.choice(DUE_DATE_FREQUENCIES),
        **_times(rng, now),
    }
    return store.insert("Accounts", values, now, CRM_USER_ID)


def _contacts(
    store: Store, rng: random.Random, account: dict[str, Any], defect: str | None, now: float
) -> int:
    count = rng.randint(2, 4) if defect == "no_primary" else rng.randint(1, 4)
    if defect == "no_primary":
        primary = -1
    elif count > 1:
        primary = rng.randrange(count)
    else:
        primary = 0 if rng.random() < 0.5 else -1
    domain = _domain(account["Account_Name"] or "unnamed")
    for i in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}@{domain}".lower()
        if defect == "bad_email" and i == max(primary, 0):
            email = email.replace("@", " at ")
        values = {
            "First_Name": first,
            "Last_Name": last,
            "Email": email,
            "Mobile": f"+61 4{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
            "Account_Name": account["id"],
            "Primary_Contact": i == primary,
            "Include_in_Emails": rng.random() < 0.3,
            **_times(rng, now),
        }
        store.insert("Contacts", values, now, CRM_USER_ID)
    return count
