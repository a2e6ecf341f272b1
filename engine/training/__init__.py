"""A training run: the session that steps it, its history, presets, drawn points, symptoms.

Built on the lecture's core (``engine.value``, ``engine.nn``, ``engine.losses``,
``engine.optim``, ``engine.bugs``), which never imports from here.
"""
