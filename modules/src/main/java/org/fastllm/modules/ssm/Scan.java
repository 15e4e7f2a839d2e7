package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.Tensor;

/** The selective scan as a mixer runs it: {@link SelectiveScan#scan} over a whole sequence, or a decoding step. */
@FunctionalInterface
interface Scan {
  Tensor scan(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c);
}
