"""Modal screens: help, dialogs."""
