#!/usr/bin/env python3
"""mamba_ssm's selective_scan_fn at the shapes of bench/gpu/scan_bench.sh, float32, timed the way scan_bench times
this project's kernels: CUDA events around the call, median of 20 runs after 3 of warm-up. Forward alone (no
gradients recorded), then forward and backward (autograd through the kernel's own backward, dy given).

    MAMBA_SSM_BUILD=... python3 bench/gpu/scan_reference.py "4 2048 2048 128" "1 2048 2048 128"   # batch time D G
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch  # noqa: E402

from mamba_kernels import load  # noqa: E402


def median_ms(run):
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for i in range(23):
        start.record()
        run()
        stop.record()
        stop.synchronize()
        if i >= 3:
            times.append(start.elapsed_time(stop))
    return sorted(times)[len(times) // 2]


def main():
    scan, _ = load()
    if scan is None:
        sys.exit("scan_reference: selective_scan_fn did not import")
    torch.manual_seed(1)
    for shape in sys.argv[1:]:
        batch, time, channels, groups = (int(v) for v in shape.split())
        options = dict(device="cuda", dtype=torch.float32)
        u = torch.randn(batch, channels, time, **options)
        delta = 0.1 * torch.rand(batch, channels, time, **options)
        a = -torch.rand(channels, 16, **options)
        b = torch.randn(batch, groups, 16, time, **options)
        c = torch.randn(batch, groups, 16, time, **options)
        dy = torch.randn(batch, channels, time, **options)
        with torch.no_grad():
            forward = median_ms(lambda: scan(u, delta, a, b, c))
        leaves = [t.detach().requires_grad_() for t in (u, delta, a, b, c)]
        both = median_ms(lambda: scan(*leaves).backward(dy))
        print(f"scan mamba_ssm b={batch} t={time} D={channels} G={groups} N=16: forward {forward:.3f} ms, "
              f"forward+backward {both:.3f} ms", flush=True)


if __name__ == "__main__":
    main()
