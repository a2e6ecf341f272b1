"""The Textual dashboard: the app, its panes (``widgets/``) and screens (``screens/``)."""
