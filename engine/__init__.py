"""A from-scratch scalar autograd engine and MLP: micrograd, as built in the lecture."""

__owner__ = "micrograd-tui"  # whose package this is (tui/shadowing.py checks it)


from engine.nn import MLP, Layer, Module, Neuron
from engine.value import Value

__all__ = ["MLP", "Layer", "Module", "Neuron", "Value"]
