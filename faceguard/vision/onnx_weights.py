"""Read an ONNX graph's weights into numpy, resolving int8 block-quantised tensors.

Weight-only nodes are evaluated once here: ``Constant``, ``Reshape`` of a constant, and
``DequantizeLinear`` of a constant (ONNX opset 21 blocked quantisation: along ``axis``, element ``i``
uses scale and zero point number ``i // block_size``, so ``float = (q - zero_point) * scale``). What
remains is the compute graph, for a port to check against its own topology.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


class OnnxFormatError(ValueError):
    """The file is not a readable ONNX graph of the expected form (damaged, truncated or foreign)."""


@dataclass(frozen=True)
class Node:
    """A compute node: operator, input and output names, attributes as Python values."""

    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attributes: dict[str, object]


@dataclass(frozen=True, eq=False)
class OnnxGraph:
    """The compute nodes in graph (topological) order and every constant tensor by name."""

    nodes: tuple[Node, ...]
    constants: dict[str, np.ndarray]
    inputs: tuple[str, ...]  # graph inputs that are not constants
    outputs: tuple[str, ...]


def dequantize_blocked(
    q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, axis: int, block_size: int
) -> np.ndarray:
    """``(q - zero_point) * scale`` in float32, one scale and zero point per block of ``axis``."""
    if q.ndim != scale.ndim or scale.shape != zero_point.shape or block_size < 1:
        raise OnnxFormatError(
            f"blocked DequantizeLinear expects scales and zero points of the tensor's rank, "
            f"got {q.shape}, {scale.shape}, {zero_point.shape}, block size {block_size}"
        )
    axis %= q.ndim
    blocks = -(-q.shape[axis] // block_size)
    if scale.shape != q.shape[:axis] + (blocks,) + q.shape[axis + 1 :]:
        raise OnnxFormatError(f"scales {scale.shape} do not fit a {q.shape} tensor in blocks of {block_size}")
    index = np.arange(q.shape[axis]) // block_size
    difference = q.astype(np.int32) - np.take(zero_point, index, axis=axis).astype(np.int32)
    return difference.astype(np.float32) * np.take(scale, index, axis=axis).astype(np.float32)


def read_graph(path: Path) -> OnnxGraph:
    """Parse ``path`` and fold its weight-only nodes into constants (OnnxFormatError if it cannot)."""
    import onnx
    from onnx import helper, numpy_helper

    try:
        graph = onnx.load(str(path)).graph
        constants = {tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer}
    except Exception as error:  # noqa: BLE001 - protobuf and onnx raise many types for a damaged file
        raise OnnxFormatError(f"{path} is not a readable ONNX file ({error})") from None
    nodes = []
    for proto in graph.node:
        node = Node(
            proto.op_type,
            tuple(proto.input),
            tuple(proto.output),
            {attribute.name: helper.get_attribute_value(attribute) for attribute in proto.attribute},
        )
        value = _constant(node) if node.op == "Constant" else _fold(node, constants)
        if value is None:
            nodes.append(node)
        else:
            constants[node.outputs[0]] = value
    inputs = tuple(value.name for value in graph.input if value.name not in constants)
    return OnnxGraph(tuple(nodes), constants, inputs, tuple(value.name for value in graph.output))


def _constant(node: Node) -> np.ndarray:
    """The tensor a Constant node holds."""
    import onnx
    from onnx import numpy_helper

    tensor = node.attributes["value"]
    if not isinstance(tensor, onnx.TensorProto):
        raise OnnxFormatError(f"Constant {node.outputs[0]} holds no tensor")
    return numpy_helper.to_array(tensor)


def _int_attribute(node: Node, name: str, default: int) -> int:
    value = node.attributes.get(name, default)
    if not isinstance(value, int):
        raise OnnxFormatError(f"{node.op} {node.outputs[0]}: attribute {name} is not an integer")
    return value


def _fold(node: Node, constants: dict[str, np.ndarray]) -> np.ndarray | None:
    """The value of a Reshape or DequantizeLinear of constants, or None for a compute node."""
    if not all(name in constants for name in node.inputs):
        return None
    if node.op == "Reshape":
        data, shape = (constants[name] for name in node.inputs)
        try:
            return data.reshape(tuple(int(size) for size in shape))
        except ValueError as error:
            raise OnnxFormatError(f"Reshape {node.outputs[0]}: {error}") from None
    if node.op == "DequantizeLinear" and len(node.inputs) == 3:
        q, scale, zero_point = (constants[name] for name in node.inputs)
        return dequantize_blocked(
            q, scale, zero_point, _int_attribute(node, "axis", 1), _int_attribute(node, "block_size", 0)
        )
    return None
