"""The words of the sync's decisions, one builder per situation.

A finance or sales user reads these on the Account in Zoho, in the button's answer,
in the portal and in a run's problems, so each one says what happened and what to do
(tests/unit/mapping/test_rejection_messages.py checks every builder and every literal).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.errors import ConflictError, RejectedError, RetriableError

if TYPE_CHECKING:
    from chalicelib.services.sync.merge import MergeResult

UNCHANGED = "Already up to date in Xero; nothing to change."
CREATED = "Synced to Xero (created)."
UPDATED = "Synced to Xero (updated)."
ADOPTED = "Synced to Xero (updated): linked to the existing Xero contact with the same name."
WOULD_CREATE = "Would create a Xero contact."
WOULD_UPDATE = "Would update the Xero contact."
WOULD_ADOPT = "Would update the Xero contact (linking the existing contact with the same name)."
NO_ACCOUNT = (
    "This Contact is not linked to an Account, so there is nothing to sync to Xero. "
    "Set its Account Name in Zoho."
)


def archived_message(name: str, *, preview: bool = False) -> str:
    if preview:  # the preview speaks of the sync to come
        return (
            f"The Xero contact for this Account (“{name}”) is archived in Xero, so a "
            "sync would stop. Restore it in Xero (Contacts › Archived › Restore) first."
        )
    return (
        f"The Xero contact for this Account (“{name}”) is archived in Xero, "
        "and we do not restore archived contacts on our own. Restore it in Xero "
        "(Contacts › Archived › Restore) and sync again, or untick Add to Xero."
    )


def erasure_message(name: str) -> str:
    return (
        f"The Xero contact for this Account (“{name}”) has a data-erasure request "
        "in Xero, so it cannot be updated. Resolve it in Xero, then sync again."
    )


def name_conflict_message(name: str, owner_number: str | None, linked_account: str | None) -> str:
    if owner_number:
        owner = f"its Contact Code is {owner_number}"
    else:
        owner = f"it is already linked to Zoho Account {linked_account}"
    return (
        f"Xero already has a different contact named “{name}” ({owner}). Xero needs contact names "
        "to be unique, so this Account was not synced, to avoid a duplicate. Rename the Account in "
        "Zoho (for example add the city), or, if both are the same customer, clear the Contact Code "
        "on the Xero contact so we can link it."
    )


def claimed_in_run_message(owner_account: str) -> str:
    return (
        f"Another Account in this run (Zoho id {owner_account}) matched the same Xero contact. "
        "Xero needs contact names to be unique: rename one of the Accounts in Zoho CRM, "
        "then sync again."
    )


def not_found_message(account_id: str) -> str:
    return (
        f"Account {account_id} was not found in Zoho CRM (was it deleted or merged?). If it still "
        "exists, open it in Zoho CRM and click Sync to Xero again."
    )


def contact_not_found_message(contact_id: str) -> str:
    return (
        f"Contact {contact_id} was not found in Zoho CRM (was it deleted?). If it still exists, "
        "open its Account in Zoho CRM and click Sync to Xero."
    )


def rejection_from_xero(errors: list[str], name: object) -> RejectedError:
    """What Xero's refusal of one contact (its ValidationErrors) means for the user."""
    text = " ".join(m for m in errors if m) or "no reason given"
    if "already assigned to another contact" in text and "name" in text.lower():
        return ConflictError(
            f"Xero already has a different contact named “{name}”. Xero needs contact names to be unique, "
            "so this Account was not synced. Rename the Account in Zoho, or merge the contacts in Xero.",
            detail=text,
        )
    if "Website" in text:
        return RejectedError(
            "Xero will not update this contact because the website saved on it in Xero is not a valid "
            "address (it must start with http:// or https://). Fix the website in Xero, then sync again.",
            detail=text,
        )
    return RejectedError(
        f"Xero did not accept this contact: {text.rstrip('. ')}. Correct the field Xero names on the "
        "Account or its contacts in Zoho CRM, then sync again.",
        detail=text,
    )


# --- Xero → Zoho CRM -------------------------------------------------------------------

FROM_XERO_UPDATED = "Updated from Xero."
FROM_XERO_CREATED = "Created from the Xero contact."

_XERO_LABELS = {
    "Name": "the contact name",
    "AccountNumber": "the account number",
    "FirstName": "the primary person's first name",
    "LastName": "the primary person's last name",
    "EmailAddress": "the primary person's email",
}


def xero_label(key: str | None) -> str:
    """How the Xero screen names a mapped value (`key` as in mapping/directions.py)."""
    if not key:
        return "the contact's details"
    if key in _XERO_LABELS:
        return _XERO_LABELS[key]
    if key.startswith("Phones["):
        return "the phone number"
    if key.startswith("Addresses["):
        part = key.rsplit(".", 1)[-1]
        return f"the postal address ({part})"
    return key


def zoho_refusal_message(code: str, zoho_label: str | None, xero_key: str | None, name: str) -> str:
    """What Zoho CRM's refusal of a change from Xero means, and where to fix it (Xero)."""
    field = zoho_label or "a field"
    where = xero_label(xero_key)
    if code == "MANDATORY_NOT_FOUND":
        return (
            f"Not synced to Zoho CRM: Zoho needs {field}, and the Xero contact “{name}” has no value for "
            f"{where}. Fill it in on the contact in Xero; the change comes across on its own."
        )
    if code == "DUPLICATE_DATA":
        return (
            f"Not synced to Zoho CRM: another Zoho record already has this {field}, and Zoho is set to "
            f"refuse duplicates there. Change {where} of “{name}” in Xero, or the other record in Zoho."
        )
    return (
        f"Not synced to Zoho CRM: Zoho did not accept {field} from the Xero contact “{name}” ({code or 'no reason given'}). "
        f"Correct {where} in Xero; the change comes across on its own."
    )


def merge_summary(result: MergeResult) -> str:
    """What the timeline says of a merge."""
    if result.held:
        return (
            "Changed in both Zoho CRM and Xero: held for a person to choose ("
            + ", ".join(c.key for c in result.held)
            + ")."
        )
    if result.writes:
        return "Merged with Xero: each side got the other's changes."
    return "Nothing new on either side."


def gave_up(error: RetriableError) -> RetriableError:
    """The message for Accounts left after the last attempt: what happened and what to do."""
    reason = error.message.replace(" We will try again.", "").strip()
    return RetriableError(
        f"{reason} We tried several times without success, so this Account was not synced. "
        "Use “Retry failed” on the run, or wait for the next scheduled run.",
        detail=error.detail,
    )
