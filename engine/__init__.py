"""A from-scratch scalar autograd engine and MLP: micrograd, as built in the lecture."""

from engine.nn import MLP, Layer, Module, Neuron
from engine.value import Value

__all__ = ["MLP", "Layer", "Module", "Neuron", "Value"]
