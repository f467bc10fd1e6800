"""The gradient ratio: the RMS gradient of the first weight over that of the last.

Both are batch gradients: a per-sample gradient's noise averages out over the batch
(and over every token or output position), and what survives is the coherent part,
which the output layer and a layer reading the input carry.
"""

from __future__ import annotations

import math
from decimal import Decimal

from gradlint.gain import attention
from gradlint.gain.draws import Draw
from gradlint.gain.estimates import Counterfactual, Estimate, Unknown
from gradlint.gain.layers import draws_of
from gradlint.gain.propagate import propagate
from gradlint.gain.spatial import (
    PROBE_BATCH,
    first_reader,
    input_shape,
    is_conv,
    out_channels,
    output_features,
    width_at,
)
from gradlint.ir import LayerGraph, Node

CACHE_KEY = "gain_estimate"
NO_INPUT = "no example input gives them"
# the batch of the shared gradient-ratio measurement (gradlint probe's default)
BATCH = 256
_STEIN_STEP = 1e-3
_GAIN_STEP = 0.05


def estimate(graph: LayerGraph, what_if: Counterfactual | None = None) -> Estimate:
    """The estimate of ``graph`` at initialisation; the plain one is cached on the graph.

    One that needs to know which entries of the input are samples and which positions, on a
    graph without an example input, is made on the input ``gradlint probe`` would make:
    ``PROBE_BATCH`` of the images its constructor states (``stated_input``: ``image_size``,
    ``channels``), or token ids ``PROBE_BATCH`` by ``PROBE_SEQUENCE`` for a model that reads
    them with an embedding; the graph says so (``assume_input``)."""
    if what_if is None and CACHE_KEY in graph.attrs:
        return graph.attrs[CACHE_KEY]
    result = _attempt(graph, what_if)
    if result.unknown and NO_INPUT in result.unknown and input_shape(graph) is None:
        if not graph.attrs.get("stated_input"):
            reader = first_reader(graph)
            if reader is not None and reader.op == "embedding":
                graph.attrs["stated_input"] = (PROBE_BATCH, attention.PROBE_SEQUENCE)
                graph.attrs["stated_by"] = "token ids as gradlint probe makes them"
        if graph.attrs.get("stated_input"):
            graph.attrs["assume_input"] = True
            assumed = _attempt(graph, what_if)
            if assumed.unknown is None:
                result = assumed
            else:
                del graph.attrs["assume_input"]
    if what_if is None:
        graph.attrs[CACHE_KEY] = result
    return result


def _attempt(graph: LayerGraph, what_if: Counterfactual | None) -> Estimate:
    try:
        return _estimated(graph, what_if or Counterfactual())
    except Unknown as why:
        return Estimate(unknown=str(why))
    except (OverflowError, ZeroDivisionError, ValueError, ArithmeticError):
        return Estimate(unknown="numbers out of range")


def _estimated(graph: LayerGraph, what_if: Counterfactual) -> Estimate:
    result = Estimate()
    propagate(graph, result, what_if)
    _ratio(graph, result, what_if)
    return result


def weights_in_order(graph: LayerGraph) -> list[Node]:
    """Weighted nodes in named_parameters() order (graph order when unknown)."""
    weighted = graph.weighted()
    if weighted and all(n.param_index is not None for n in weighted):
        return sorted(weighted, key=lambda n: n.param_index)  # type: ignore[arg-type, return-value]
    return weighted


def batch_size(graph: LayerGraph) -> int:
    """Samples whose per-sample gradients average out: the batch, and for a sequence model
    every token, since its first layers sum one gradient per step (features are the last
    dim, or there are none after an embedding's indices); a convolution's positions are
    counted apart, where the spatial sizes are followed."""
    shape = input_shape(graph)
    if shape is None:
        return BATCH
    reader = first_reader(graph)
    if reader is None or is_conv(reader):
        return shape[0]
    if reader.op == "linear" and len(shape) > 3 and reader.inputs:
        # an image cut into patches (einops): the batch times the patches
        tokens = attention.token_counts(graph).get(reader.inputs[0])
        if tokens:
            return shape[0] * tokens
    return math.prod(shape) if reader.op == "embedding" else math.prod(shape[:-1])


def _ratio(graph: LayerGraph, result: Estimate, what_if: Counterfactual) -> None:
    ordered = weights_in_order(graph)
    if not ordered:
        raise Unknown("no weights")
    if ordered[0].op == "shift" and ordered[0].param_index is None:
        # a table the signal carries, first in graph order: a class token registered before it,
        # which the graph does not hold, would come first in named_parameters()
        raise Unknown(f"the order of {ordered[0].name} among the weights")
    if _cancelled(graph, ordered[0]):
        # exactly zero in exact arithmetic: a real pass measures its rounding (CvT's norm)
        raise Unknown(f"{ordered[0].name}, first in named_parameters(), gets a gradient of rounding only: "
                      "a BatchNorm after it, through per-channel maps, cancels its scale")
    found = _ratio_over(graph, result, ordered, what_if)
    result.first, result.last, result.log10_grad_ratio = found
    if result.first is not None and _unmodelled_before(graph, graph.nodes[result.first]):
        # a raw nn.Parameter (a class token, a position table) comes first in
        # named_parameters(): the ratio is defined on a weight the graph does not hold
        result.log10_grad_ratio = None
        result.ratio_unknown = "the first weight in named_parameters() is one the graph does not hold"
    if _unmodelled_after(graph, graph.nodes[result.last]):
        result.log10_grad_ratio = None  # as above, for a weight registered after the last one held
        result.ratio_unknown = "the last weight in named_parameters() is one the graph does not hold"
    # the rules judge the chain of layers: a position table is none of them
    forward = [n for n in graph.topological() if n.has_weight and n.op != "shift"]
    result.forward_log10 = _ratio_over(graph, result, forward, what_if)[2]


def _unmodelled_before(graph: LayerGraph, first: Node) -> bool:
    if first.param_index is None:
        return False
    held = {n.param_index for n in graph.weighted()}
    return any(i not in held for i in range(first.param_index))


def _unmodelled_after(graph: LayerGraph, last: Node) -> bool:
    count = graph.attrs.get("weights")
    if not isinstance(count, int) or last.param_index is None:
        return False
    held = last.attrs.get("weights", 1)  # a recurrent layer holds its weights one after another
    return last.param_index + (held if isinstance(held, int) else 1) < count


def _ratio_over(
    graph: LayerGraph, result: Estimate, ordered: list[Node], what_if: Counterfactual
) -> tuple[int | None, int, float | None]:
    """(first weight with a nonzero gradient, last weight, log10 of their RMS gradient ratio);
    frozen weights take no gradient and stand apart, as in the shared definition."""
    ordered = [n for n in ordered if not n.attrs.get("frozen")]
    if not ordered:
        raise Unknown("every weight is frozen")
    last = ordered[-1]
    last_g = result.nodes[last.id].grad2
    first = next((n for n in ordered if (result.nodes[n.id].grad2 or 0) > 0), None)
    unfed = _unfed(graph, result, ordered[:ordered.index(first)]) if first else None
    if unfed is not None:
        # where its branch joins the input's path a gradient arrives: zero here only for a
        # value the walk does not follow (a diffusion UNet's time embedding of its second
        # input); in a real pass, the first weight with a gradient
        raise Unknown(f"{unfed.name}, first in named_parameters(), reads a value the estimate does not follow")
    if not last_g or first is None:
        return (first.id if first else None), last.id, None
    if first is last or (first.param_index is not None and first.param_index == last.param_index):
        return first.id, last.id, 0.0  # one weight, however often forward uses it
    first_g = sum((_batch_gradient(graph, result, n, what_if, True) for n in _uses(ordered, first)), Decimal(0))
    last_g = sum((_batch_gradient(graph, result, n, what_if, False) for n in _uses(ordered, last)), Decimal(0))
    value = 0.5 * float((first_g / last_g).log10())
    return first.id, last.id, value


_BATCH_NORMS = ("BatchNorm", "SyncBatchNorm")


def _cancelled(graph: LayerGraph, node: Node) -> bool:
    """A per-channel gain whose every path to the output reaches a BatchNorm through maps that
    keep channels apart (a per-channel bias, a depthwise convolution): the BatchNorm divides
    each channel by its own spread, so the gain's scale cancels and its gradient is zero."""
    if node.op != "scale":
        return False

    def step(user: Node, onward: list[int]):
        if user.op == "norm" and (user.module_type or "").startswith(_BATCH_NORMS):
            return "stop"
        per_channel = user.op in ("shift", "identity", "dropout") or (
            user.op == "linear" and is_conv(user) and (user.attrs.get("groups") or 1) > 1
            and user.attrs.get("groups") == out_channels(user))
        return "go" if per_channel and onward else False

    answer, seen = _walk_down(graph, graph.consumers()[node.id], step)
    return answer is None and bool(seen)


def _unfed(graph: LayerGraph, result: Estimate, skipped: list[Node]) -> Node | None:
    """The first of the weights skipped for a zero gradient that is off the input's path and
    feeds it where a gradient arrives; the walks run only when a weight was skipped."""
    if not skipped:
        return None
    users = graph.consumers()
    fed = _walk_down(graph, [n.id for n in graph.nodes if n.op == "input"], lambda n, _: "go", users)[1]

    def joins(user: Node, _: list[int]):
        if user.id not in fed:
            return "go"
        return True if result.nodes[user.id].delta2 > 0 else "stop"

    return next((n for n in skipped if n.id not in fed and _walk_down(graph, [n.id], joins, users)[0] is True), None)


def _uses(ordered: list[Node], node: Node) -> list[Node]:
    """The layers that use ``node``'s weight: a tied weight (a language model's head on its
    embedding's weight) is one parameter, whose gradient sums theirs."""
    if node.param_index is None:
        return [node]
    return [n for n in ordered if n.param_index == node.param_index]


def _batch_gradient(graph: LayerGraph, result: Estimate, node: Node, what_if: Counterfactual, first: bool) -> Decimal:
    """E[g²] of the batch gradient one layer gives its weight."""
    g = (result.nodes[node.id].grad2 or Decimal(0)) * Decimal(_batch_share(graph, result, node))
    coherent = _coherent_gain_gradient(graph, result, node, what_if)
    if first:
        coherent += _coherent_input_gradient(graph, result, node, what_if)
    return g + _slope2(node) * coherent


def _slope2(node: Node) -> Decimal:
    """The square of the slope from a parameter to the weight forward computes from it
    (``F.conv2d(x, normalize(self.weight))``): the coherent parts below are the effective
    weight's gradients, as ``grad2`` is before propagate scales it."""
    slope = node.attrs.get("grad_scale", 1.0)
    return Decimal(slope * slope)


def _batch_share(graph: LayerGraph, result: Estimate, node: Node) -> float:
    """How much of the per-sample E[g²] survives averaging over a batch.

    Per-sample gradients mostly cancel (1/B); the output layer keeps a coherent
    part, the gradient of E[y²] itself: W·E[a aᵀ] for a linear head, whose
    share of the per-sample E[g²] is (s² + n·o²) / (n·E[a²]²) for inputs whose
    units vary by s across samples around fixed offsets of mean square o.
    Sigmoid outputs (offset 0.5) and bias-dominated deep tanh make it large.
    """
    if node.op == "shift":
        return _shift_share(graph, result, node)
    noise = 1.0 / (batch_size(graph) * result.output_positions)
    if node.op != "linear" or node.activation is not None or not node.fan_in:
        return noise
    if not _feeds_output(graph, node):
        return noise
    a = result.nodes[node.inputs[0]]
    if a.m2 <= 0.0:
        return noise
    s = min(a.sample_var(), a.m2)
    offsets = a.m2 - s
    return noise + (s * s + node.fan_in * offsets**2) / (node.fan_in * a.m2 * a.m2)


def _shift_share(graph: LayerGraph, result: Estimate, node: Node) -> float:
    """The share of an added table's per-sample E[g²] its batch gradient keeps, in the units
    of the layers' (``_batch_share``: a sum over the N samples the batch holds, over N²).
    Each entry's gradient is the signal's at one position, summed over the B samples of the
    batch only (not over the tokens a sequence model counts as samples): B·E[δ²] of noise.
    What the samples share adds up whole: the loss's gradient through the fixed offsets the
    output carries, as a share s of the output's second moment, B²·s·E[δ²]."""
    shape = input_shape(graph)
    reader = first_reader(graph)
    if shape is None or reader is None or reader.op not in ("linear", "embedding"):
        # which entries of the input are samples and which positions: a layer reading it says
        raise Unknown(f"the samples and positions {node.name} is summed over ({NO_INPUT})")
    if reader.op == "linear" and not is_conv(reader) and len(shape) > 3 and not (
            reader.inputs and attention.token_counts(graph).get(reader.inputs[0])):
        raise Unknown(f"the positions {node.name} is summed over (the input's patches are not followed)")
    if node.attrs.get("concatenated") and is_conv(reader) and not attention.token_counts(graph).get(node.id):
        # how many patches a convolution cuts, that the tokens join, is not followed
        raise Unknown(f"the positions {node.name} is put among (a convolution's patches are not followed)")
    samples, batch = shape[0], batch_size(graph)
    n = float(batch * result.output_positions)
    below = _walk_down(graph, [node.id], lambda n, _: "go")[1]
    taken = [graph.nodes[i] for i in below if graph.nodes[i].attrs.get("function") == "take"]
    if node.attrs.get("concatenated") and taken:
        # a class token whose position the output reads (``x[:, 0]``): at initialisation the
        # others get what attention spreads, about a mean's share each, it the gradient whole
        tokens = attention.token_counts(graph).get(node.id) if is_conv(reader) else batch / samples
        n /= math.sqrt(max(tokens or 1.0, 1.0))
    elif any(t.attrs.get("token") for t in taken) and any(graph.nodes[i].attrs.get("function") == "pack"
                                                          for i in below):
        # a table of the input's positions added before a learned token joins them (``pack``),
        # when the output reads that token's position (``unpack``): it does not cover it, and
        # every entry gets what attention spreads, about a mean's share
        n *= math.sqrt(max(batch / samples, 1.0))
    out = next(n for n in graph.nodes if n.op == "output")
    y = result.nodes[out.inputs[0]] if out.inputs else None
    shared = max(0.0, 1.0 - y.sample_var() / y.m2) if y is not None and y.m2 > 0.0 else 0.0
    used = 1.0 if node.attrs.get("concatenated") else _rows_used(graph, node)
    return used * (samples + samples * samples * shared) / (n * n)


def _rows_used(graph: LayerGraph, node: Node) -> float:
    """The share of a position table's rows a sequence shorter than it reads (GPT's
    ``self.pos_emb[:, :t, :]`` of ``block_size`` rows): the others get no gradient, and the
    RMS over all entries counts them."""
    entries = node.attrs.get("entries")
    tokens = attention.token_counts(graph).get(node.id)
    width = width_at(graph, node)
    if not (isinstance(entries, int) and tokens and width) or entries % width:
        return 1.0
    rows = entries // width
    return tokens / rows if 0 < tokens < rows else 1.0


def _walk_down(graph: LayerGraph, starts: list[int], step,
               users: dict[int, list[int]] | None = None) -> tuple[bool | None, set[int]]:
    """Depth first from ``starts`` along the consumers (``users``, else the graph's). ``step(node,
    its users)`` says what a node is: True or False ends the walk with that answer, "go"
    follows the node's users, "stop" ends the branch there. (answer or None, the nodes seen)."""
    users = users if users is not None else graph.consumers()
    stack, seen = list(starts), set()
    while stack:
        nid = stack.pop()
        if nid in seen:
            continue
        seen.add(nid)
        what = step(graph.nodes[nid], users[nid])
        if what is True or what is False:
            return what, seen
        if what == "go":
            stack.extend(users[nid])
    return None, seen


def _feeds_output(graph: LayerGraph, node: Node) -> bool:
    """The node's value is the model output, up to reshapes, dropout and an elementwise
    output activation: the fixed per-unit offsets of the head's inputs that make its batch
    gradient coherent pass a monotone activation unchanged in sign."""
    users = graph.consumers()
    current = [node.id]
    while current:
        nxt = []
        for nid in current:
            for u in users[nid]:
                op = graph.nodes[u].op
                if op == "output":
                    return True
                if op in ("identity", "dropout", "activation"):
                    nxt.append(u)
        current = nxt
    return False


def _coherent_input_gradient(
    graph: LayerGraph, result: Estimate, node: Node, what_if: Counterfactual
) -> Decimal:
    """The part of a first layer's gradient that survives averaging over the batch.

    For a layer reading the Gaussian input, the batch mean of its gradient tends to
    the gradient of the expected loss (Stein's lemma), which depends on the weight
    through its rows' norms: E[g] = c·W with c·Σw² = dE[loss]/dlog‖W‖. Its square per
    entry is (dE[loss]/dlog‖W‖)² / (N²·v) for N entries of variance v. Over the many
    samples and positions of a convolution on a real example input it outweighs the
    per-sample noise, which alone would make the estimate follow the batch size.
    Only modelled when the example input is known; zero elsewhere.
    """
    if input_shape(graph) is None or not _reads_input(graph, node) or node.op != "linear":
        return Decimal(0)
    w, b = draws_of(node, what_if)
    units = out_channels(node) if is_conv(node) else node.fan_out
    if not units or not node.fan_in or w.variance <= 0.0 or w.mean != 0.0:
        return Decimal(0)
    out = next(n for n in graph.nodes if n.op == "output")
    if not out.inputs:
        return Decimal(0)
    scaled = Draw(w.variance * (1.0 + _STEIN_STEP) ** 2)
    bumped = Estimate()
    bump = Counterfactual({**what_if.draws, node.id: (scaled, b)}, what_if.normalise_after)
    propagate(graph, bumped, bump)
    before = result.nodes[out.inputs[0]].m2
    after = bumped.nodes[out.inputs[0]].m2
    slope = (after - before) / _STEIN_STEP
    entries = float(units) * node.fan_in
    return Decimal(slope * slope / (entries * entries * w.variance))


def _coherent_gain_gradient(graph: LayerGraph, result: Estimate, node: Node, what_if: Counterfactual) -> Decimal:
    """The batch gradient of an element-wise gain (``x * self.g``, a norm's scale).

    Scaling every entry of the gain scales the signal after it, and so the expected loss:
    each entry's gradient has a mean that does not average out over the batch and the
    positions, E[g] = c·w with c·Σw² = dE[loss]/dlog‖g‖. A gain has few entries (one per
    channel), so this mean outweighs the per-sample noise wherever the loss depends on the
    signal's scale."""
    if node.op != "scale":
        return Decimal(0)
    entries = node.attrs.get("entries")
    if not isinstance(entries, int) or entries <= 0:
        raise Unknown(f"entries of {node.name}")
    w, b = draws_of(node, what_if)
    second = w.variance + w.mean**2
    if second <= 0.0:
        return Decimal(0)
    out = next(n for n in graph.nodes if n.op == "output")
    if not out.inputs:
        return Decimal(0)
    ends = []
    for factor in (1.0 + _GAIN_STEP, 1.0 - _GAIN_STEP):  # wide enough for the cached moments' grid
        bumped = Estimate()
        scaled = Draw(w.variance * factor**2, w.mean * factor)
        propagate(graph, bumped, Counterfactual({**what_if.draws, node.id: (scaled, b)}, what_if.normalise_after))
        ends.append(bumped.nodes[out.inputs[0]].m2)
    slope = (ends[0] - ends[1]) / (2.0 * _GAIN_STEP)
    if output_features(graph, out) is None:
        raise Unknown("width of the output")  # the loss's mean, in the backward walk's units
    return Decimal(slope * slope / (float(entries) ** 2 * second))


def _reads_input(graph: LayerGraph, node: Node) -> bool:
    current = node
    while len(current.inputs) == 1:
        current = graph.nodes[current.inputs[0]]
        if current.op == "input":
            return True
        if current.op not in ("identity", "dropout"):
            return False
    return False
