# The few safetensors names bench/gpu/fastllm_hf_check.py uses, for trying it without the package. Not shipped.
import json
import struct

import torch as _torch

_DTYPES = {"F32": _torch.float32, "F64": _torch.float64, "BF16": _torch.bfloat16, "F16": _torch.float16,
           "I64": _torch.int64, "I32": _torch.int32}
_NAMES = {v: k for k, v in _DTYPES.items()}


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    body = data[8 + size:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        raw = bytearray(body[start:end])
        dtype = _DTYPES[entry["dtype"]]
        t = _torch.frombuffer(raw, dtype=dtype) if raw else _torch.empty(0, dtype=dtype)
        tensors[name] = t.reshape(entry["shape"]).clone()
    return tensors


def write(path, tensors):
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        raw = t.view(_torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


class safe_open:
    def __init__(self, path, framework):
        self.tensors = read(path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def keys(self):
        return list(self.tensors)
