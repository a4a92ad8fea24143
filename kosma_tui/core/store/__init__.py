"""The local store (DESIGN 1 and 5): ``Store`` for the records,
``TransactionBook`` for the Bank Transactions of one account."""

from kosma_tui.core.store.book import CHUNK_ROWS, TransactionBook
from kosma_tui.core.store.repository import SCHEMA_VERSION, Store

__all__ = ["CHUNK_ROWS", "SCHEMA_VERSION", "Store", "TransactionBook"]
