"""The mean-field estimate of how much gradient survives a layer graph.

Signal propagation at initialisation (Poole et al. 2016; Schoenholz et al. 2017),
node by node in topological order. Every tensor is summarised by its second
moment ``m2 = E[x²]`` and its mean; a pre-activation is taken as N(mean, m2 − mean²).
Forward through a weighted layer: ``m2' = n·v·m2 + b``; backward:
``E[δ_in²] = m·v·E[δ_out²]``, through an activation ``E[φ'(h)²]·E[δ²]``;
a weight's gradient ``E[g²] = E[δ_out²]·E[a_in²]``.

Pure Python on purpose: ``gradlint check`` never imports numpy or torch.

The modules import downward only, from gradlint.ir and the standard library:
``activations`` (φ, φ' and their Gaussian moments), ``draws`` (what an init draws),
``spatial`` (sizes from the example input), ``estimates`` (the values),
``layers`` (each op's rule), ``propagate`` (the walk over the graph) and
``ratio`` (the gradient ratio and :func:`estimate`).
"""

from gradlint.gain.activations import FUNCTIONS, MAX_DERIVATIVE, Moments, gaussian_mean, moments
from gradlint.gain.draws import Draw, bias_draw, weight_draw
from gradlint.gain.estimates import Counterfactual, Estimate, NodeEstimate, Unknown
from gradlint.gain.ratio import BATCH, CACHE_KEY, batch_size, estimate, weights_in_order

__all__ = [
    "BATCH",
    "CACHE_KEY",
    "FUNCTIONS",
    "MAX_DERIVATIVE",
    "Counterfactual",
    "Draw",
    "Estimate",
    "Moments",
    "NodeEstimate",
    "Unknown",
    "batch_size",
    "bias_draw",
    "estimate",
    "gaussian_mean",
    "moments",
    "weight_draw",
    "weights_in_order",
]
