"""engine/persist"""
