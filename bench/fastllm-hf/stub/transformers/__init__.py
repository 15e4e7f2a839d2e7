# The few transformers names the fastllm-hf Python files import, for checking their model maths on a machine
# without transformers (bench/fastllm-hf/local_check.py). Not shipped.
from torch import nn


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


class GenerationMixin:
    pass
