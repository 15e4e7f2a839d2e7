#!/usr/bin/env python3
"""Writes generated/*.yaml: one valid config broken in exactly one place per file.

Each (key, bad value) pair replaces one value of a valid two-block config. Run from this folder; the files are
committed so the corpus is the same on every machine.
"""
import itertools
import pathlib

BASE = {
    "model.hidden_size": "64",
    "model.vocab_size": "256",
    "model.num_layers": "4",
    "model.max_sequence_length": "128",
    "att.num_heads": "4",
    "att.head_groups": "2",
    "att.ffn_hidden_size": "128",
    "att.window_size": "16",
    "att.lr_scale": "1.0",
    "att.dropout": "0.0",
    "ssm.state_size": "16",
    "ssm.d_inner": "128",
    "ssm.conv_kernel_size": "4",
    "ssm.n_qk_heads": "4",
    "ssm.n_v_heads": "8",
    "ssm.chunk_size": "32",
    "lora.rank": "4",
    "lora.alpha": "8.0",
}
BAD = {
    "negative": "-7",
    "zero": "0",
    "text": "lots",
    "list": "[1, 2]",
    "mapping": "{a: 1}",
    "fraction": "2.5",
    "int-overflow": "4294967296",
    "long-overflow": "99999999999999999999",
    "yes": "yes",
    "empty": "",
}
# values that are legitimately allowed for some keys are skipped below
ALLOWED = {("att.dropout", "zero"), ("att.lr_scale", "zero"), ("att.lr_scale", "fraction"), ("lora.alpha", "fraction"),
           ("att.ffn_hidden_size", "zero"), ("att.lr_scale", "int-overflow"), ("att.lr_scale", "long-overflow"),
           ("lora.alpha", "int-overflow"), ("lora.alpha", "long-overflow")}


def render(v):
    return f"""model:
  hidden_size: {v['model.hidden_size']}
  vocab_size: {v['model.vocab_size']}
  max_sequence_length: {v['model.max_sequence_length']}
  blocks:
    att:
      kind: transformer
      attention_type: gqa
      num_heads: {v['att.num_heads']}
      head_groups: {v['att.head_groups']}
      ffn_hidden_size: {v['att.ffn_hidden_size']}
      sliding_window: true
      window_size: {v['att.window_size']}
      lr_scale: {v['att.lr_scale']}
      dropout: {v['att.dropout']}
      shared_weights: true
      lora:
        rank: {v['lora.rank']}
        alpha: {v['lora.alpha']}
        per_use: true
    ssm:
      kind: ssm
      variant: discrete_mamba2
      state_size: {v['ssm.state_size']}
      d_inner: {v['ssm.d_inner']}
      conv_kernel_size: {v['ssm.conv_kernel_size']}
      n_qk_heads: {v['ssm.n_qk_heads']}
      n_v_heads: {v['ssm.n_v_heads']}
      chunk_size: {v['ssm.chunk_size']}
  block_pattern: [att, ssm, att]
  num_layers: {v['model.num_layers']}
"""


out = pathlib.Path("generated")
out.mkdir(exist_ok=True)
for old in out.glob("*.yaml"):
    old.unlink()
count = 0
for (key, _), (bad_name, bad_value) in itertools.product(BASE.items(), BAD.items()):
    if (key, bad_name) in ALLOWED:
        continue
    values = dict(BASE)
    values[key] = bad_value
    (out / f"{key.replace('.', '-')}--{bad_name}.yaml").write_text(render(values))
    count += 1
print(f"wrote {count} files to {out}/")
