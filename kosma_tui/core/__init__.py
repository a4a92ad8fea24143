"""The banking core: records, store, secrets, portal client, linking, sync.

Nothing in this package imports Textual: the daily job and the commands run
without paying for the UI (a test proves it).
"""
