"""Settings for the whole suite."""

from __future__ import annotations

import gc

from hypothesis import HealthCheck, settings

# Hypothesis times two things by the wall clock: each example (``deadline``) and the
# drawing of the first ones (the ``too_slow`` health check). On a loaded machine both
# fail tests that are fine, so neither is checked; a test that sets its own
# ``suppress_health_check`` lists ``too_slow`` itself (its list replaces this one).
settings.register_profile("any-load", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("any-load")

# The cyclic collector's passes, not the tests, took much of the suite's time: a training
# step allocates many short-lived objects (freed by their reference counts, not by the
# collector), and each young-generation pass also ages whatever the worker holds. Rarer
# passes change no result; the dashboard itself freezes what it built (gc.freeze()).
gc.set_threshold(100_000, 50, 100)
