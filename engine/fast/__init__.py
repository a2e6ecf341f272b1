"""The fast path: the readable engine's training step, compiled to straight-line Python
(or, for wide nets, to loops of a fixed size).

``engine/value.py`` stays the reference: a ``Value`` per scalar, a graph per
step, ``backward()`` over its topological order. It is what a learner reads.
This package computes *the same numbers* several hundred times faster, and
``TrainingSession`` uses it by default (``backend="reference"`` switches back).

How
---
``CompiledNet(model, loss, l2, xs, ys)`` looks at the ``MLP``'s shape (layer
widths, activations), the loss and the data, and writes Python source
(``codegen.py``) for two functions, compiled once with ``exec``:

* ``forward``: a loop over the samples whose body is one sample's forward
  pass written out line by line, weights held in local variables
  (``a = w3 + w0*x0 + w1*x1 + w2*x2``, ``h0_0 = tanh(a)``,
  ``q0_0 = 1 - h0_0**2``). Per sample it keeps a tuple of what backward needs
  (activations and local derivatives): the *tape*.
* ``backward``: reads each parameter's current ``.grad``, loops over the
  tape, and writes the gradients back. No ``Value`` objects, no graph, no
  topological sort, no dict or attribute traffic inside the loop.

Wide nets: loops instead of lines
--------------------------------
Unrolled, the source has a line per multiply, so compiling costs time and
memory in proportion to the parameters: measured (CPU time, peak RSS of the
process), ~0.3 s and 73 MB for 4,400 parameters (``--hidden 64,64``), 1.2 s
and 250 MB for 17,000 (``128,128``), 6.6 s and 0.9 GB for 67,000 (W4,
``256,256``), and ``1000,1000`` never finished. From ``LOOPS_FROM`` = 5,000
parameters ``codegen.py`` writes the same passes as loops of a fixed size
(``forward_source_loops``): a layer is a list comprehension over its neurons,
each neuron's weighted sum ``sum(map(mul, w, inputs), b)`` (for layers of at
most ``NARROW`` = 8 inputs, ``b + w0*x0 + w1*x1`` written out inside the loop);
backward first takes each sample (last to first) down through the layers,
then gives each parameter ``sum(map(mul, inputs, ds), g)`` over the samples.
W4 then compiles in ~0.01 s and 24 MB (measured by ``make bench``).

The price is speed per step: ``sum(map(mul, ...))`` calls ``operator.mul``
per element where unrolled code runs Python 3.11's specialised float
bytecodes. Measured on moons (100 points, relu, hinge, steps/s): 16x16
1,270 unrolled vs 560 loops, 32x32 (spiral, 300 points) 100 vs 45, 64x64 114
vs 61, 128x128 26 vs 17. So small nets stay unrolled (W1 to W3 unchanged)
and the switch sits where unrolled compiling starts to cost more than a
fraction of a second and ~75 MB. Per million multiply-adds of work the loops
run ~28 steps/s on W4, above the ~7 of W1 (whose steps are mostly fixed
cost): the cost of a step now grows with its work, not faster.

The exactness argument below holds for both forms. ``sum(floats, start)``
adds left to right in doubles up to CPython 3.11 (3.12 compensates); the
loops are used only when ``codegen.SUM_ADDS_IN_ORDER`` finds it so. In the
loops form backward adds each parameter's contributions in the same sample
order as the unrolled loop; only the interleaving between parameters (leaves
that never read each other's gradient) differs. The tests run every fast-path
case in both forms.

``CompiledNet.forward()`` returns a ``CompiledLoss`` with ``.data`` and
``.backward()``, so ``TrainingSession.step()`` keeps the lecture's shape:
forward, ``zero_grad()``, ``loss.backward()``, ``optimizer.step()``. Zeroing
and the SGD update stay on the ``Value`` parameters; only building the graph
and back-propagating through it are replaced.

Why this design (measured while planning, W2 = micrograd's moons demo):
our ``Value`` already has no reference cycles (ops store local derivatives,
not closures), which alone is worth ~3x over micrograd 0.1.0, whose closures
make the cyclic collector eat two thirds of its time. Fusing each neuron's
weighted sum into one node gave ~54x, replaying a recorded tape as flat loops
~55x: both still pay an interpreter dispatch and a container access per
scalar. Generated straight-line code pays neither (~375x), needs no
third-party package, and is the only one of the three that reaches the
targets. numpy over the batch would be faster still but could not give the
same floating-point sums in the same order without per-element loops, and
would make the engine depend on it.

Exactness
---------
The result is not "close to" the reference; it is the same floating-point
computation. For every number the ``Value`` graph computes, the generated
code does the same IEEE operations on the same operands in the same order:

* forward: ``Neuron.__call__`` sums ``b + w0*x0 + w1*x1 ...`` left to right;
  ``Value.__pow__`` uses ``ieee_pow`` (``x**2`` is *not* always ``x*x``);
  ``1 + -y * s`` is ``s * (-y) + 1.0``; a loss's ``sum(terms, Value(0.0))``
  is accumulated in sample order; ``mean`` multiplies by ``1.0 / n``.
* backward: ``Value.backward()`` walks the reversed topological order of the
  full-batch graph. Samples share only parameters (leaves), and the loss
  sums them first to last, so that walk visits the L2 term first, then the
  samples *last to first*, each sample's subgraph whole. Every parameter
  gets one contribution per sample, so its ``.grad`` is
  ``((G + l2) + l2) + c[n-1] + ... + c[0]``, which is exactly how the
  generated loop accumulates it, from the ``.grad`` it finds (``G``: zero, or
  last step's under ``skip-zero-grad``). Inside a sample, a hidden value
  feeding several neurons receives their shares last neuron first, and the
  generated sum is written in that order.

The tests (``tests/engine/test_fast*.py``) compare losses, scores, gradients
and whole multi-step trajectories with ``==`` across every loss, activation,
bug and bug combination, and random nets via hypothesis. Floats compare
equal; at most the sign of a zero gradient can differ (see skipping below).

The bugs
--------
``MIRRORED_BUGS`` (``compiled.py``) declares every bug this path honours; a
bug not on it (a new one, say) never runs compiled: ``TrainingSession`` runs
the reference engine while it is on, and ``CompiledNet.forward()`` refuses
it. Each listed bug is read when the reference engine reads it, so the
compiled path honours it at the same moment:

* ``tanh-derivative`` (read in ``forward``, as ``Value.tanh`` does): a second
  compiled forward with ``q = 1 - h``.
* ``overwrite-grad`` (read in ``backward``): a compiled backward with ``=``
  for ``+=``. What survives is the *last* contribution in the reference's
  visiting order: sample 0's share for every parameter (``G`` and the L2
  term are overwritten), neuron 0's share for a hidden value, and in the
  positive branch of binary cross-entropy the share through ``-z``.
* ``forward-order-backward`` (read in ``backward``): walking the order from
  the leaves, every node is visited before any gradient reaches it, so each
  use of a parameter adds ``local_grad * 0.0`` (samples first to last, then
  the L2 term). The compiled backward does exactly that, which keeps the
  reference's NaN when a local derivative is infinite.
* ``skip-zero-grad``, ``zero-grad-after-backward``, ``gradient-ascent`` live
  in ``TrainingSession.step()`` and ``SGD.step()``, which both backends share.

Skipping zero work
------------------
With relu and the hinge loss much of the backward pass multiplies by zero:
a sample whose margin is met passes back 0, a relu that is off passes back
0. A third compiled backward skips those samples, the parameter updates of
neurons that pass back 0, and the gradient sum of a relu that is off (its
gradient is ``0.0 * sum``: a zero). Adding a zero leaves a sum unchanged (up
to the sign of a zero), so this is exact *provided every skipped product is
a zero*, i.e. no value of either pass is infinite or NaN.
``CompiledNet.values_bounded`` proves that before each backward from a
cheap bound on every value of both passes (see its docstring); when it
cannot, or when ``overwrite-grad`` or ``forward-order-backward`` is on, the
non-skipping backward runs. On the moons demo this takes the fast path from
~300 steps/s on the first steps to ~450 once most margins are met.

Limits
------
Only ``engine.nn.MLP`` of ``Neuron`` layers with one output, and the losses
of ``engine/losses.py`` (sse, mse, hinge, bce) with optional L2, compile; a
new op or loss needs its lines in ``codegen.py`` (both forms) *and* a test
against ``Value``. Compiling costs a few milliseconds (W1) to ~50 ms (W3) and
at most ~0.3 s (just under ``LOOPS_FROM``), once per shape and bug variant in
a process (a reset or a second session of the same shape reuses it). The
memory of a step grows with samples x neurons (the tape), not with the code.
Gradient checks stay on the reference engine.
"""

from engine.fast.compiled import MIRRORED_BUGS, CompiledLoss, CompiledNet, mirrors

__all__ = ["MIRRORED_BUGS", "CompiledLoss", "CompiledNet", "mirrors"]
