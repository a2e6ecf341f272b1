"""engine/inspect"""
