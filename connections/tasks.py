"""The worker's side of connected accounts: each sync, and the minute's look for due ones."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def sync_account(account_id: int) -> str:
    """Sync one account (connections.services.sync_account records how it went)."""
    from connections.models import ConnectedAccount
    from connections.services import sync_account as sync

    account = ConnectedAccount.objects.select_related("owner").filter(pk=account_id).first()
    if account is None:
        return "gone"
    result = sync(account)
    return "busy" if result is None else "done"


@shared_task(acks_late=True)
def sync_due() -> int:
    """Every minute (beat): queue a sync of each account whose next sync is due."""
    from connections.services import sync_due as claim_due
    from relations.publishing import enqueue

    claimed = claim_due()
    for account_id in claimed:
        enqueue(sync_account, account_id)
    return len(claimed)
