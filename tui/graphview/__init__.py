"""tui/graphview"""
