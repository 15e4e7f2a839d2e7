# Configuration of a model written by `fastllm-cli export --format fastllm-hf`: the block-modular model section of
# fastllm-java under its own keys (blocks, block_pattern, num_layers, ...), plus the keys transformers reads.
try:
    from transformers import PreTrainedConfig as _BaseConfig
except ImportError:  # transformers 4.x
    from transformers import PretrainedConfig as _BaseConfig


class FastLLMConfig(_BaseConfig):
    """A stack of fastllm-java blocks.

    ``blocks`` maps each block name to its resolved keys (``kind``: transformer or ssm, or a plugin kind), the
    stack is ``block_pattern`` repeated to ``num_layers`` layers; a block with ``shared_weights`` is one set of
    weights used at each of its layers.
    """

    model_type = "fastllm_hybrid"
    keys_to_ignore_at_inference = ["past_key_values"]

    def __init__(self, hidden_size=1024, vocab_size=49152, tied_embedding_weight=False, normalization=None,
                 blocks=None, block_pattern=None, num_layers=None, max_sequence_length=2048,
                 position_embeddings=False, layer_types=None, **kwargs):
        self.hidden_size = hidden_size
        self.vocab_size = vocab_size
        self.tied_embedding_weight = bool(tied_embedding_weight)
        self.normalization = normalization or {"type": "layer_norm", "epsilon": 1e-5}
        self.blocks = blocks or {}
        self.block_pattern = list(block_pattern or [])
        self.num_layers = num_layers if num_layers is not None else len(self.block_pattern)
        self.max_sequence_length = max_sequence_length
        self.position_embeddings = bool(position_embeddings)
        self.num_hidden_layers = self.num_layers
        if layer_types is None:
            layer_types = [_layer_type(self.blocks.get(name, {})) for name in self.layer_blocks()]
        self.layer_types = list(layer_types)
        kwargs.pop("num_hidden_layers", None)
        kwargs["tie_word_embeddings"] = self.tied_embedding_weight
        super().__init__(**kwargs)

    def layer_blocks(self):
        """The block name of each layer: the pattern repeated to num_layers."""
        pattern = self.block_pattern
        return [pattern[i % len(pattern)] for i in range(self.num_layers)] if pattern else []


def _layer_type(block):
    if block.get("kind") == "transformer":
        return "sliding_attention" if block.get("sliding_window") else "full_attention"
    return "linear_attention"
