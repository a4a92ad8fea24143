"""One module per screen of DESIGN 3, plus the modals."""
