"""The Textual app: screens over the core engine, no banking logic of its own."""
