"""Greedy decoding tokens/s of a Hugging Face model folder in transformers, for bench/gpu/decode.sh.

The same prompts as DecodeBench (prompt_token), the same definition: tokens/s is new tokens x batch / decode time, the
decode time being the whole generate() call's less the prefill (one forward of the prompt, timed on its own).
Modes: fp32 and bf16 (eager, dynamic cache; bf16-nocudnn: with torch's cuDNN attention backend off, which builds a
plan for each new key length), and static-bf16 / static-fp32: cache_implementation="static", with which
transformers compiles the decoding step with torch.compile on CUDA (the setup its docs recommend for speed); a mode
that fails or runs past the time left prints a line and the next one runs.

  python3 decode_reference.py MODEL_DIR --device cuda --modes fp32,bf16,static-bf16 --batch 1,16 --prompt 512 --new 256
"""
import argparse
import signal
import time

import torch
import transformers as t


def prompt_token(b, i, vocab):
    return (b * 1_000_003 + i * 7_919 + 12_345) * 48_271 % 2_147_483_647 % vocab


class OutOfTime(Exception):
    pass


def on_alarm(signum, frame):
    raise OutOfTime()


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def load(folder, device, dtype):
    model = t.AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(device).eval()
    config = model.generation_config
    config.eos_token_id = None
    config.bos_token_id = None
    config.pad_token_id = 0
    config.do_sample = False
    return model


def prefill_ms(model, ids, device):
    times = []
    with torch.no_grad():
        for _ in range(3):
            sync(device)
            start = time.perf_counter()
            try:
                out = model(ids, use_cache=True, logits_to_keep=1)
            except TypeError:
                out = model(ids, use_cache=True)
            out.logits[:, -1].argmax(-1).tolist()
            times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)[1]


def generate(model, ids, new, static):
    extra = {"cache_implementation": "static"} if static else {}
    with torch.no_grad():
        return model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new, min_new_tokens=new,
                              do_sample=False, eos_token_id=None, pad_token_id=0, **extra)


def run_case(model, mode, args, batch):
    cudnn = torch.backends.cuda.cudnn_sdp_enabled()
    torch.backends.cuda.enable_cudnn_sdp(cudnn and not mode.endswith("-nocudnn"))
    try:
        timed_case(model, mode, args, batch)
    finally:
        torch.backends.cuda.enable_cudnn_sdp(cudnn)


def timed_case(model, mode, args, batch):
    vocab = model.config.vocab_size
    ids = torch.tensor([[prompt_token(b, i, vocab) for i in range(args.prompt)] for b in range(batch)],
                       device=args.device)
    static = mode.startswith("static")
    # warm-up: the compiled modes compile here, for this batch and cache length, so at the full length
    generate(model, ids, args.new if static else min(8, args.new), static)
    prefill = prefill_ms(model, ids, args.device)
    sync(args.device)
    start = time.perf_counter()
    out = generate(model, ids, args.new, static)
    sync(args.device)
    total = (time.perf_counter() - start) * 1e3
    made = out.shape[1] - args.prompt
    first = ",".join(str(v) for v in out[0, args.prompt:args.prompt + 8].tolist())
    note = "" if made == args.new else f" (made {made} tokens, not {args.new})"
    print(f"decode {'python-' + mode:<15} {args.device:<6} {args.name:<12} batch {batch:2d} prompt {args.prompt:4d}"
          f" new {args.new:3d}: prefill {prefill:9.1f} ms, decode {args.new * batch / ((total - prefill) / 1e3):9.1f}"
          f" tok/s, whole generation {args.new * batch / (total / 1e3):9.1f} tok/s; first tokens [{first}]{note}",
          flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--modes", default="fp32,bf16,static-bf16")
    parser.add_argument("--batch", default="1,16")
    parser.add_argument("--prompt", type=int, default=512)
    parser.add_argument("--new", type=int, default=256)
    parser.add_argument("--name", default="llama-120m")
    parser.add_argument("--time-limit", type=float, default=240, help="seconds for all cases; later ones skipped")
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    deadline = time.monotonic() + args.time_limit
    print(f"# python transformers {t.__version__} torch {torch.__version__}, device {args.device}, "
          f"{torch.get_num_threads()} CPU threads, tf32 matmul {torch.backends.cuda.matmul.allow_tf32}", flush=True)
    signal.signal(signal.SIGALRM, on_alarm)
    for mode in args.modes.split(","):
        dtype = torch.bfloat16 if "bf16" in mode else torch.float32
        try:
            model = load(args.folder, args.device, dtype)
        except Exception as e:  # noqa: BLE001 - one failed mode must not end the others
            print(f"decode python-{mode} {args.device}: could not load the model: {type(e).__name__}: {e}", flush=True)
            continue
        for batch in [int(b) for b in args.batch.split(",")]:
            left = int(deadline - time.monotonic())
            if left < 5:
                print(f"decode python-{mode} {args.device} batch {batch}: skipped, out of time", flush=True)
                continue
            signal.alarm(left)
            try:
                run_case(model, mode, args, batch)
            except OutOfTime:
                print(f"decode python-{mode} {args.device} batch {batch}: stopped after the time left ({left} s)",
                      flush=True)
            except Exception as e:  # noqa: BLE001
                print(f"decode python-{mode} {args.device} batch {batch}: failed: {type(e).__name__}: "
                      f"{str(e).splitlines()[0] if str(e) else ''}", flush=True)
            finally:
                signal.alarm(0)
        del model
        if args.device == "cuda":
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
