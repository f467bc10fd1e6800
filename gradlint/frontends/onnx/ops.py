"""What each ONNX operator is to a gradient: data, not code."""

from __future__ import annotations

# Activations (which operator is which kind) are torch knowledge too: gradlint.torch_api.

NORMS = {
    "BatchNormalization",
    "LayerNormalization",
    "InstanceNormalization",
    "GroupNormalization",
    "RMSNormalization",
    "SimplifiedLayerNormalization",
    "LpNormalization",
    "MeanVarianceNormalization",
}

POOLS = {
    "MaxPool",
    "AveragePool",
    "LpPool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "GlobalLpPool",
    "MaxRoiPool",
    "ReduceMean",
    "ReduceMax",
    "ReduceMin",
    "ReduceSum",
    "ReduceL2",
}

RECURRENT = {"LSTM": "lstm", "GRU": "gru", "RNN": "rnn"}

# The gradient reaches the (first) data input unchanged in scale, or scaled by a constant.
PASS_THROUGH = {
    "Identity",
    "Reshape",
    "Flatten",
    "Transpose",
    "Squeeze",
    "Unsqueeze",
    "Cast",
    "CastLike",
    "Dropout",
    "Expand",
    "Tile",
    "Slice",
    "Split",
    "Gather",
    "GatherElements",
    "GatherND",
    "Pad",
    "Where",
    "Resize",
    "Upsample",
    "DepthToSpace",
    "SpaceToDepth",
    "Neg",
    "Trilu",
    "ReverseSequence",
    "Compress",
}

# Elementwise arithmetic: with one data operand and a constant it is a scale or a bias.
ARITHMETIC = {"Add", "Sub", "Mul", "Div"}

# Outputs that carry no gradient: shapes, indices, booleans.
NOT_DIFFERENTIABLE = {
    "Shape",
    "Size",
    "ConstantOfShape",
    "Range",
    "NonZero",
    "ArgMax",
    "ArgMin",
    "Equal",
    "Greater",
    "GreaterOrEqual",
    "Less",
    "LessOrEqual",
    "Not",
    "And",
    "Or",
    "Xor",
    "IsNaN",
    "IsInf",
    "Sign",
    "Floor",
    "Ceil",
    "Round",
    "EyeLike",
    "RandomNormalLike",
    "RandomUniformLike",
    "Bernoulli",
    "Multinomial",
}

# A node with a graph attribute runs code we do not follow.
SUBGRAPH_OPS = {"If", "Loop", "Scan", "SequenceMap"}

DEFAULT_DOMAINS = {"", "ai.onnx"}

# Operators where only some inputs carry the data (the rest are shapes, indices,
# target types or conditions); by position.
DATA_ARGS = {
    "CastLike": (0,),
    "Reshape": (0,),
    "Expand": (0,),
    "Tile": (0,),
    "Slice": (0,),
    "Pad": (0,),
    "Resize": (0,),
    "Upsample": (0,),
    "Squeeze": (0,),
    "Unsqueeze": (0,),
    "Split": (0,),
    "Where": (1, 2),
    "Dropout": (0,),
    "Trilu": (0,),
    "ReduceMean": (0,),
    "ReduceSum": (0,),
    "ReduceMax": (0,),
    "ReduceMin": (0,),
    "ReduceL2": (0,),
    "Clip": (0,),
    "Compress": (0,),
    "ReverseSequence": (0,),
}
