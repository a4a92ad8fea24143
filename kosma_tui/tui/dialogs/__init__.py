"""Modal dialogs that several screens and controllers open (confirm, conflict, rename...)."""
