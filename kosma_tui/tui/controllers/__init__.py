"""The work screens ask the app for (through ``tui.messages``): sync, link, ERPNext, admin.

A controller holds the app (typed for the checker only) and may open dialogs; it never
imports the app or a screen, so screens, controllers and the app form no import cycle.
"""
