"""Administration of what was linked (DESIGN 8): find, rename, disable, remove
Bank Accounts, and revoke Bank Consents.

Shared by the commands and the TUI, so both find an account the same way
(its name, its IBAN, or a case-insensitive prefix naming exactly one) and
refuse the same things with the same sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kosma_tui.core import messages
from kosma_tui.core.errors import PortalError, UsageError
from kosma_tui.core.identifiers import names_account
from kosma_tui.core.messages import AmbiguousName as AmbiguousName
from kosma_tui.core.messages import UnknownName as UnknownName
from kosma_tui.core.messages import listing
from kosma_tui.core.records import BankAccount, BankConsent
from kosma_tui.core.sync.engine import SyncEngine
from kosma_tui.core.sync.lock import consent_lock

if TYPE_CHECKING:
    from kosma_tui.core.portal import PortalClient
    from kosma_tui.core.store import Store

NAME_MAX = 140  # ERPNext's limit for a document name

# The portal refuses these because the consent is already unusable: nothing is left to
# withdraw there, so revoking goes on and removes it here.
ALREADY_ENDED = ("CONSENT.REVOKED", "CONSENT.EXPIRED", "CONSENT.INVALID_TOKEN")


def _pick(records: list[BankAccount], text: str) -> list[BankAccount]:
    """Exact name, then IBAN or account number, then case-insensitive name, then
    case-insensitive prefix."""
    exact = [a for a in records if a.name == text]
    if exact:
        return exact
    by_number = [a for a in records if names_account(text, a.iban, a.bank_account_no)]
    if by_number:
        return by_number
    folded = text.strip().casefold()
    same = [a for a in records if a.name.casefold() == folded]
    if same or not folded:
        return same
    return [a for a in records if a.name.casefold().startswith(folded)]


def find_account(store: Store, text: str) -> BankAccount:
    """The one Bank Account ``text`` names; unknown or ambiguous names list the candidates."""
    accounts = sorted(store.accounts(), key=lambda a: a.name.casefold())
    found = _pick(accounts, text)
    if len(found) == 1:
        return found[0]
    if found:
        raise messages.ambiguous_bank_account(text, [a.name for a in found])
    raise messages.no_bank_account(text, [a.name for a in accounts])


def find_accounts(store: Store, texts: list[str]) -> list[BankAccount]:
    """Each named account once, in the order given."""
    found: list[BankAccount] = []
    for text in texts:
        account = find_account(store, text)
        if all(a.name != account.name for a in found):
            found.append(account)
    return found


def check_new_name(store: Store, account: BankAccount, new: str) -> str:
    """The new name, tidied; refuses an empty, overlong, unprintable or taken one."""
    name = " ".join(new.split())
    if not name:
        raise UsageError("The new name is empty.", "Give the account a name.")
    if not name.isprintable():
        raise UsageError("The new name contains control characters.", "Type a plain name.")
    if len(name) > NAME_MAX:
        raise UsageError(
            f"The new name is {len(name)} characters long; at most {NAME_MAX} are allowed.",
            "Choose a shorter name.",
        )
    for other in store.accounts():
        if other.key != account.key and other.name.casefold() == name.casefold():
            raise messages.bank_account_name_taken(other.name)
    return name


def rename_account(store: Store, text: str, new: str) -> tuple[str, BankAccount]:
    """Rename an account (its transactions and sync history follow); returns the old name."""
    with store.locked():
        account = find_account(store, text)
        old = account.name
        name = check_new_name(store, account, new)
        if name == old:
            return old, account
        account.name = name
        store.save_account(account)  # found by its key: the transactions stay with it
        store.rename_sync_runs(old, name)
        return old, account


def set_enabled(store: Store, text: str, enabled: bool) -> BankAccount:
    with store.locked():
        account = find_account(store, text)
        return store.update_account(account.name, enabled=enabled)


def remove_account(store: Store, text: str) -> tuple[BankAccount, int]:
    """Remove an account and its local transactions; returns it and how many went."""
    with store.locked():
        account = find_account(store, text)
        count = store.book(account).count()
        store.delete_account(account)
        return account, count


# ---------------------------------------------------------------- consents


def find_consent(store: Store, bank: str, company: str | None = None) -> BankConsent:
    """The Bank Consent of ``bank`` (name, case-insensitive, or a unique prefix) and
    ``company`` (needed only when the bank is linked for several companies)."""
    consents = sorted(store.consents(), key=lambda c: c.name.casefold())
    if company is not None:
        wanted = company.strip().casefold()
        consents = [c for c in consents if c.company.casefold() == wanted]
        if not consents:
            raise UnknownName(
                f"No Bank Consent belongs to a company named '{company}'.",
                "'kosma-tui consent list' lists the consents.",
            )
    folded = bank.strip().casefold()
    found = [c for c in consents if c.bank.casefold() == folded or c.name.casefold() == folded]
    if not found and folded:
        found = [c for c in consents if c.bank.casefold().startswith(folded)]
    if len(found) == 1:
        return found[0]
    names = [f"{c.bank} ({c.company})" for c in (found or consents)]
    if found:
        raise AmbiguousName(
            f"'{bank}' names {len(found)} Bank Consents: {listing(names)}.",
            "Give the full bank name and --company.",
        )
    if not consents:
        raise UnknownName(
            f"There is no Bank Consent for '{bank}'; there are none yet.",
            "Link a bank first ('kosma-tui link --company NAME').",
        )
    raise UnknownName(
        f"There is no Bank Consent for '{bank}'; known ones: {listing(names)}.",
        "'kosma-tui consent list' lists the consents.",
    )


@dataclass
class Revoked:
    consent: BankConsent
    accounts: list[BankAccount]
    # set when the portal had already ended the consent (nothing left to withdraw there)
    portal_note: str = ""


async def revoke_consent(store: Store, client: PortalClient, consent: BankConsent) -> Revoked:
    """Withdraw ``consent`` at the portal (PROTOCOL ``revoke_consent``), then remove it here.

    Its accounts and transactions stay; syncing them then says to link again. Any
    other portal failure leaves the consent stored, so the admin can try again."""
    async with consent_lock(store, consent.name):  # no sync holds its token meanwhile
        current = store.consent(consent.name)
        if current is None:
            raise UnknownName(f"The Bank Consent {consent.name} was already removed.")
        note = ""
        # a sync killed mid-call may have left the live token with a call to replay
        current = await SyncEngine(store, client).recover(current)
        try:
            await client.revoke_consent(current.consent_id, current.consent_token)
        except PortalError as exc:
            if not exc.code.startswith(ALREADY_ENDED):
                raise
            note = (
                f"The portal had already ended it ({exc.message.rstrip('.')}), so "
                "nothing was left to withdraw there."
            )
        store.delete_consent(current.name)
    accounts = store.accounts(bank=current.bank, company=current.company)
    return Revoked(current, accounts, note)
