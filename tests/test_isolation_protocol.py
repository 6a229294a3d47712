"""The wire format between the grader and a submission's process, and the Python API.

Nothing read back from the child may execute: arrays cross as raw bytes with a
checked dtype (never pickles or object arrays), and malformed frames are refused.
"""
import importlib.util
import json
import struct

import numpy as np
import pytest

from torch_ref.verify.isolation import protocol


def roundtrip(value, containers=16):
    handles = {}

    def handle(obj):
        handles[len(handles) + 1] = obj
        return len(handles), type(obj).__name__

    encoder = protocol.Encoder(handle, depth=containers)
    tree = encoder.encode(value)
    frame = bytearray(protocol.pack({"value": tree}, encoder.blobs))
    header, blobs = protocol.unpack(frame)
    assert frame == b""
    return protocol.decode(header["value"], blobs,
                           handle=lambda i, name: ("handle", i, name))


def test_values_cross_by_value_and_objects_stay_behind():
    a = np.arange(6.0).reshape(2, 3)
    got = roundtrip((a, np.float32(2.5), 3, 1.5, None, "s", True, [a.T], {"k": a}))
    assert type(got[0]) is np.ndarray and np.array_equal(got[0], a)
    assert got[1] == np.float32(2.5) and type(got[1]) is np.float32
    assert got[2:7] == (3, 1.5, None, "s", True)
    assert np.array_equal(got[7][0], a.T) and np.array_equal(got[8]["k"], a)
    assert roundtrip(object())[0] == "handle"
    # a cache nested in a returned tuple stays behind when containers=1
    nested = roundtrip((a, (a, a)), containers=1)
    assert type(nested[0]) is np.ndarray and nested[1][0] == "handle"


def test_subclasses_and_object_arrays_do_not_cross():
    class Evil(np.ndarray):
        def __eq__(self, other):
            return True

    got = roundtrip(np.zeros(3).view(Evil))
    assert type(got) is np.ndarray
    assert roundtrip(np.array([object()], dtype=object))[0] == "handle"


@pytest.mark.parametrize("dtype", ["|O8", "O", "<V8", "[('a', '<f8')]", "(2,)<f8", "<M8"])
def test_unsafe_dtypes_are_refused(dtype):
    with pytest.raises(protocol.ProtocolError):
        protocol.read_array(b"\0" * 8, dtype, [1])


def test_malformed_frames_are_refused():
    with pytest.raises(protocol.ProtocolError, match="limit"):
        protocol.unpack(bytearray(struct.pack("<QI", protocol.MAX_FRAME + 1, 2)))
    head = b"not json"
    with pytest.raises(protocol.ProtocolError, match="JSON"):
        protocol.unpack(bytearray(struct.pack("<QI", 4 + len(head), len(head)) + head))
    head = json.dumps({"blobs": [100]}).encode()
    with pytest.raises(protocol.ProtocolError, match="add up"):
        protocol.unpack(bytearray(struct.pack("<QI", 4 + len(head), len(head)) + head))
    for tree in ({"a": 0, "d": "<f8", "s": [3]}, {"x": 1}, {"h": "1", "t": "x"}, [],
                 {"r": 1}, {"a": 0, "d": "<f8", "s": [1], "x": "pickle"}):
        with pytest.raises(protocol.ProtocolError):
            protocol.decode(tree, [b"\0" * 8], handle=lambda i, n: None)


def test_everything_read_is_capped():
    # a header over its limit is refused from the prefix alone, before any JSON is read
    prefix = struct.pack("<QI", protocol.MAX_HEADER + 100, protocol.MAX_HEADER + 1)
    with pytest.raises(protocol.ProtocolError, match="limits"):
        protocol.unpack(bytearray(prefix))
    # a header listing more blobs than allowed
    head = json.dumps({"blobs": [0] * (protocol.MAX_BLOBS + 1)}).encode()
    with pytest.raises(protocol.ProtocolError, match="blobs"):
        protocol.unpack(bytearray(struct.pack("<QI", 4 + len(head), len(head)) + head))
    # a tree with more nodes than allowed, and one nested too deep
    with pytest.raises(protocol.ProtocolError, match="too large"):
        protocol.decode({"L": [{"n": 0}] * (protocol.MAX_NODES + 1)}, [])
    deep = {"n": 0}
    for _ in range(protocol.MAX_DEPTH + 5):
        deep = {"L": [deep]}
    with pytest.raises(protocol.ProtocolError, match="too deep"):
        protocol.decode(deep, [])
    with pytest.raises(protocol.ProtocolError, match="more than"):
        protocol.Encoder(None).encode([[np.zeros(1)] * 4000, [np.zeros(1)] * 4000])


def test_handles_go_one_way_and_refs_the_other():
    # the executor's objects reach the grader as handles; the grader sends them back as
    # refs, which only the executor resolves; neither side accepts the other's form
    with pytest.raises(protocol.ProtocolError):
        protocol.decode({"h": 1, "t": "x"}, [], ref=lambda i: i)
    with pytest.raises(protocol.ProtocolError):
        protocol.decode({"r": 1}, [], handle=lambda i, n: i)
    assert protocol.decode({"r": 7}, [], ref=lambda i: ("object", i)) == ("object", 7)
    marker = object()
    tree = protocol.Encoder(None, ref=lambda obj: 7 if obj is marker else None).encode(
        (marker, 1))
    assert tree == {"T": [{"r": 7}, {"i": 1}]}
    with pytest.raises(protocol.ProtocolError, match="cannot cross"):
        protocol.Encoder(None).encode(object())


def test_a_tensor_crosses_as_an_array_that_says_so():
    encoder = protocol.Encoder(None, tensor=lambda obj: np.ones(2) if obj == "t" else None)
    value = protocol.decode(encoder.encode(_Tensorish()), encoder.blobs)
    assert isinstance(value, protocol.Tensor) and np.array_equal(value, np.ones(2))


class _Tensorish:
    def __eq__(self, other):
        return other == "t"

    __hash__ = object.__hash__


def test_verify_module_from_python_returns_the_report():
    pytest.importorskip("torch")
    import mutants

    import torch_ref

    # a module object under a name of its own: nothing left in sys.modules for others
    spec = importlib.util.spec_from_file_location("reference_rnn_layers_for_the_api",
                                                  mutants.reference_module("cs231n"))
    rnn_layers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rnn_layers)
    report = torch_ref.verify_module(rnn_layers, api="cs231n", only=["rnn_step"])
    assert {f.name: f.status for f in report.functions} == {
        "rnn_step_forward": "PASS", "rnn_step_backward": "PASS"}
    assert json.loads(report.to_json())["summary"]["functions_passed"] == 2
    assert "<table>" in report._repr_html_() and "rnn_step_forward" in report._repr_html_()
    assert report.problems() == {}
    with pytest.raises(ValueError, match="unknown option"):
        torch_ref.verify_module(rnn_layers, api="cs231n", colour=True)
