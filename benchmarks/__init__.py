"""Benchmarks (``make bench``): the engine's paths against micrograd and PyTorch.

Not tests: nothing here asserts a time. See ``python -m benchmarks --help``.
"""
