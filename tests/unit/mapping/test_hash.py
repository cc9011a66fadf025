"""content_hash: the same Xero Contact always hashes the same; any change shows."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from chalicelib.mapping import FieldMap, content_hash, prepare_contact
from tests.unit.mapping.helpers import zoho_account, zoho_contacts

ROOT = Path(__file__).resolve().parents[3]


def test_hash_is_sha256_of_canonical_json(field_map: FieldMap) -> None:
    prepared = prepare_contact(zoho_account(2), zoho_contacts(2), field_map)
    canonical = json.dumps(prepared.xero_contact, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert prepared.content_hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_hash_ignores_key_order() -> None:
    assert content_hash({"Name": "A", "Phones": [{"PhoneType": "FAX", "PhoneNumber": "1"}]}) == content_hash(
        {"Phones": [{"PhoneNumber": "1", "PhoneType": "FAX"}], "Name": "A"}
    )


def test_hash_ignores_zoho_field_and_record_order(field_map: FieldMap) -> None:
    account = zoho_account(14)
    contacts = zoho_contacts(14)
    shuffled_account = dict(reversed(list(account.items())))
    shuffled_contacts = [dict(reversed(list(c.items()))) for c in reversed(contacts)]
    assert (
        prepare_contact(account, contacts, field_map).content_hash
        == prepare_contact(shuffled_account, shuffled_contacts, field_map).content_hash
    )


def test_hash_ignores_fields_that_are_not_mapped(field_map: FieldMap) -> None:
    account = zoho_account(2)
    before = prepare_contact(account, zoho_contacts(2), field_map).content_hash
    # Our own write-back and unmapped fields must not make an Account look changed.
    account |= {"Xero_Sync_Status": "Synced", "Xero_Last_Synced": "2025-01-01T00:00:00+00:00", "Website": "x"}
    assert prepare_contact(account, zoho_contacts(2), field_map).content_hash == before


def test_hash_changes_with_any_mapped_value(field_map: FieldMap) -> None:
    base = prepare_contact(zoho_account(2), zoho_contacts(2), field_map).content_hash
    changed_city = prepare_contact(zoho_account(2) | {"Billing_City": "Leura"}, zoho_contacts(2), field_map)
    contacts = zoho_contacts(2)
    contacts[2]["Include_in_Emails"] = True  # Dev Patel
    changed_person = prepare_contact(zoho_account(2), contacts, field_map)
    hashes = {base, changed_city.content_hash, changed_person.content_hash}
    assert len(hashes) == 3


def test_hash_is_the_same_in_another_process(field_map: FieldMap) -> None:
    # Python randomises str hashing per process; the content hash must not depend on it.
    code = (
        "from chalicelib.mapping import load_field_map, prepare_contact\n"
        "from tests.unit.mapping.helpers import zoho_account, zoho_contacts\n"
        "print(prepare_contact(zoho_account(1), zoho_contacts(1), load_field_map()).content_hash)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    env.pop("MAPPING_FILE", None)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == prepare_contact(zoho_account(1), zoho_contacts(1), field_map).content_hash


def test_hash_of_a_known_contact_never_changes() -> None:
    # Pinned: changing the canonical form would make every Account look changed and
    # re-sync the whole CRM at once. The text is the canonical JSON spelled out.
    body = {
        "Name": "Café Zürich",
        "PaymentTerms": {"Sales": {"Day": 20, "Type": "OFFOLLOWINGMONTH"}},
        "ContactPersons": [{"FirstName": "Léa", "IncludeInEmails": True}],
    }
    canonical = (
        '{"ContactPersons":[{"FirstName":"Léa","IncludeInEmails":true}],"Name":"Café Zürich",'
        '"PaymentTerms":{"Sales":{"Day":20,"Type":"OFFOLLOWINGMONTH"}}}'
    )
    assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == content_hash(body)
    assert content_hash(body) == "b0619c76843f49320ca361db311c5b12bad2734eed4771b3886a664b4d64c7d7"
