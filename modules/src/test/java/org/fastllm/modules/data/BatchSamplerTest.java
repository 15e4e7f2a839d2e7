package org.fastllm.modules.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class BatchSamplerTest {
  static final Device CPU = new Device("cpu");
  static final Tokens TOKENS = Tokens.of(java.util.stream.IntStream.range(0, 5000).map(i -> (i * 7919) % 251)
      .toArray());

  @Test
  void shard_ofTwoRanks_togetherAreTheWholeBatch() {
    BatchSampler whole = new BatchSampler(TOKENS, 4, 16, 1234, 256);

    for (long index : new long[] {0, 7}) {
      Tensor expected = whole.batch(index, CPU).inputs();
      Tensor joined = torch.cat(new TensorVector(whole.shard(0, 2).batch(index, CPU).inputs(),
          whole.shard(1, 2).batch(index, CPU).inputs()));
      assertThat(joined.sizes().vec().get()).containsExactly(4, 16);
      assertThat(torch.equal(joined, expected)).as("batch %d", index).isTrue();
    }
  }

  @Test
  void shard_batchNotAMultipleOfRanks_isRefused() {
    assertThatThrownBy(() -> new BatchSampler(TOKENS, 6, 16, 1234, 256).shard(0, 4))
        .hasMessage("training.batch_size is 6, which 4 processes cannot share; with data parallelism it must be a "
            + "multiple of the number of processes");
  }
}
