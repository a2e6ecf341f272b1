"""tui/cli"""
