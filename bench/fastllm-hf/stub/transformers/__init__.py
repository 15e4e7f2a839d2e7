# The few transformers names the fastllm-hf Python files import, for checking their model maths on a machine
# without transformers (bench/fastllm-hf/local_check.py). Not shipped.
import importlib
import json
import logging
import os
import shutil
import sys
import tempfile

from torch import nn

__version__ = "stub"


class PretrainedConfig:
    def __init__(self, **kwargs):
        self.tie_word_embeddings = kwargs.pop("tie_word_embeddings", True)
        for key, value in kwargs.items():
            setattr(self, key, value)


class PreTrainedModel(nn.Module):
    def __init__(self, config, *args, **kwargs):
        super().__init__()
        self.config = config

    def post_init(self):
        pass

    def save_pretrained(self, folder):
        import safetensors
        os.makedirs(folder, exist_ok=True)
        config = {k: v for k, v in vars(self.config).items() if not k.startswith("_")}
        config["transformers_version"] = __version__
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
        for name in os.listdir(self.config._folder):
            if name.endswith(".py"):
                shutil.copy(os.path.join(self.config._folder, name), folder)
        safetensors.write(os.path.join(folder, "model.safetensors"), self.state_dict())


class AutoModelForCausalLM:
    """from_pretrained(folder, trust_remote_code=True, output_loading_info=True) of a fastllm-hf folder: its Python
    files imported as a package, the weights loaded by name; a missing or unexpected name is logged as
    transformers logs it."""

    @staticmethod
    def from_pretrained(folder, trust_remote_code=False, output_loading_info=False, **ignored):
        import safetensors
        root = tempfile.mkdtemp()
        package = "fastllm_hf_%d" % len(os.listdir(tempfile.gettempdir()))
        os.makedirs(os.path.join(root, package))
        for name in os.listdir(folder):
            if name.endswith(".py"):
                shutil.copy(os.path.join(folder, name), os.path.join(root, package))
        open(os.path.join(root, package, "__init__.py"), "w").close()
        sys.path.insert(0, root)
        modeling = importlib.import_module(package + ".modeling_fastllm")
        config = modeling.FastLLMConfig(**json.load(open(os.path.join(folder, "config.json"))))
        config._folder = folder
        model = modeling.FastLLMForCausalLM(config)
        weights = safetensors.read(os.path.join(folder, "model.safetensors"))
        state = model.state_dict()
        info = {"missing_keys": sorted(set(state) - set(weights)), "unexpected_keys": sorted(set(weights) - set(state)),
                "mismatched_keys": [], "error_msgs": []}
        if info["missing_keys"]:
            logging.getLogger("transformers").warning("Some weights were not initialized: %s", info["missing_keys"])
        if info["unexpected_keys"]:
            logging.getLogger("transformers").warning("Some weights were not used: %s", info["unexpected_keys"])
        model.load_state_dict(weights, strict=False)
        return (model, info) if output_loading_info else model


class GenerationMixin:
    """Greedy generate() the way transformers' runs a model that makes its own cache: no cache before the first
    step, prepare_inputs_for_generation given the whole sequence and the model kwargs, the output's past_key_values
    carried into the next step's kwargs."""

    def generate(self, input_ids, max_new_tokens, attention_mask=None, **ignored):
        import torch
        kwargs = {"use_cache": True, "attention_mask": attention_mask if attention_mask is not None
                  else torch.ones_like(input_ids),
                  "cache_position": torch.arange(input_ids.shape[1])}
        for _ in range(max_new_tokens):
            inputs = self.prepare_inputs_for_generation(input_ids, **kwargs)
            outputs = self(**inputs, return_dict=True)
            if "past_key_values" in outputs:
                kwargs["past_key_values"] = outputs["past_key_values"]
            kwargs["attention_mask"] = torch.cat([kwargs["attention_mask"],
                                                  kwargs["attention_mask"].new_ones(input_ids.shape[0], 1)], -1)
            kwargs["cache_position"] = kwargs["cache_position"][-1:] + 1
            nxt = outputs["logits"][:, -1].argmax(-1, keepdim=True)
            input_ids = torch.cat([input_ids, nxt], dim=-1)
        return input_ids
