package org.fastllm.modules.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class KeptTensorTest {
  @Test
  void set_onceFixed_writesIntoTheHeldMemoryAndRefusesAnotherShape() {
    try (KeptTensor kept = new KeptTensor()) {
      kept.set(torch.zeros(2, 3));
      long address = kept.get().data_ptr().address();
      kept.set(torch.ones(2, 3));
      assertThat(kept.get().data_ptr().address()).as("not fixed: a new tensor").isNotEqualTo(address);
      address = kept.get().data_ptr().address();
      Tensor before = kept.get();
      kept.fix();
      kept.set(torch.full(new long[] {2, 3}, new Scalar(7.0)));
      assertThat(kept.get().data_ptr().address()).isEqualTo(address);
      assertThat(before.sum().item_double()).as("the same tensor, changed in place").isEqualTo(42.0);
      assertThatThrownBy(() -> kept.set(torch.zeros(3, 2)))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[2, 3]").hasMessageContaining("[3, 2]");
    }
  }

  @Test
  void fix_beforeAnythingIsHeld_isRefused() {
    try (KeptTensor kept = new KeptTensor()) {
      assertThatThrownBy(kept::fix).isInstanceOf(IllegalStateException.class);
    }
  }
}
