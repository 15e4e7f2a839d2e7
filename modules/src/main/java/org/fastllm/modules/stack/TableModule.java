package org.fastllm.modules.stack;

import org.fastllm.modules.layer.Parameters;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/** A module holding a single {@code weight} table: an embedding or the output head. */
final class TableModule extends Module {
  final Tensor weight;

  TableModule(Tensor weight) {
    this.weight = Parameters.register(this, "weight", weight);
  }
}
