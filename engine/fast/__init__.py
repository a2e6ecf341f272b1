"""The fast path (draft)."""

from engine.fast.compiled import CompiledLoss, CompiledNet

__all__ = ["CompiledLoss", "CompiledNet"]
