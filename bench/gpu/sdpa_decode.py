"""Times torch's fused attention at the shapes of a decode step, per backend, to show what a key length that grows by
one each step costs: q [b, groups, heads per group, 64], keys and values [b, groups, n, 64] as this tool's decoding
calls it, n from --prompt up by one per step (as decoding does) and n fixed (as training and compiled static caches
see it), bf16 and fp32, with every backend allowed and with cuDNN's off.

    python3 bench/gpu/sdpa_decode.py [--steps 64] [--prompt 512] [--batch 1] [--groups 4] [--per-group 3]
"""
import argparse
import time

import torch
import torch.nn.functional as F


def run(q, keys, values, prompt, steps, grow):
    torch.cuda.synchronize()
    start = time.perf_counter()
    for step in range(steps):
        n = prompt + step if grow else prompt
        F.scaled_dot_product_attention(q, keys[:, :, :n], values[:, :, :n])
    torch.cuda.synchronize()
    return (time.perf_counter() - start) * 1e3 / steps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--prompt", type=int, default=512)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("--per-group", type=int, default=3)
    args = parser.parse_args()
    print(f"# torch {torch.__version__}, {torch.cuda.get_device_name()}, cuDNN {torch.backends.cudnn.version()}; "
          f"q [{args.batch}, {args.groups}, {args.per_group}, 64], keys [{args.batch}, {args.groups}, n, 64], "
          f"n from {args.prompt}, {args.steps} calls, ms per call (the first run of each line includes its warm-up)")
    for dtype in (torch.bfloat16, torch.float32):
        q = torch.randn(args.batch, args.groups, args.per_group, 64, device="cuda", dtype=dtype)
        keys = torch.randn(args.batch, args.groups, args.prompt + 4 * args.steps, 64, device="cuda", dtype=dtype)
        values = torch.randn_like(keys)
        for cudnn in (True, False):
            torch.backends.cuda.enable_cudnn_sdp(cudnn)
            for grow in (True, False):
                # the second pass over growing lengths starts where the first ended: lengths it has not seen yet
                first = run(q, keys, values, args.prompt, args.steps, grow)
                again = run(q, keys, values, args.prompt + (2 * args.steps if grow else 0), args.steps, grow)
                print(f"sdpa {str(dtype).split('.')[-1]:<9} cudnn {'on ' if cudnn else 'off'} "
                      f"{'n grows by one' if grow else 'n fixed       '}: {first:8.3f} ms, then {again:8.3f} ms per call",
                      flush=True)
    torch.backends.cuda.enable_cudnn_sdp(True)


if __name__ == "__main__":
    main()
