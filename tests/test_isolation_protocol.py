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

    encoder = protocol.Encoder(handle, containers=containers)
    tree = encoder.encode(value)
    frame = bytearray(protocol.pack({"value": tree}, encoder.blobs))
    header, blobs = protocol.unpack(frame)
    assert frame == b""
    return protocol.decode(header["value"], blobs, lambda i, name: ("handle", i, name))


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
    for tree in ({"a": 0, "d": "<f8", "s": [3]}, {"x": 1}, {"h": "1", "t": "x"}, []):
        with pytest.raises(protocol.ProtocolError):
            protocol.decode(tree, [b"\0" * 8], lambda i, n: None)


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
