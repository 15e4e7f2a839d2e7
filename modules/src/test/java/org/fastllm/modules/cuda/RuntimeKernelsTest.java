package org.fastllm.modules.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** What can be checked without a GPU: how launch arguments are laid out for {@code cuLaunchKernel}. */
class RuntimeKernelsTest {

  @Test
  void launchArguments_eightBytesEach_pointedToInOrder_andSurviveTheScopeTheyWereMadeIn() {
    RuntimeKernels.Arguments slots;
    Tensor t = torch.ones(4);
    try (PointerScope scope = new PointerScope()) {
      slots = new RuntimeKernels.Arguments();
      slots.put("k", 0, t);
      slots.put("k", 1, 7);
      slots.put("k", 2, 1L << 40);
      slots.put("k", 3, -1.5f);
    }
    assertEquals(t.data_ptr().address(), slots.values.getLong(0), "a tensor passes its data pointer");
    assertEquals(7, slots.values.getInt(8));
    assertEquals(1L << 40, slots.values.getLong(16));
    assertEquals(-1.5f, slots.values.getFloat(24));
    for (int i = 0; i < 4; i++) {
      assertEquals(slots.values.address() + 8L * i, slots.pointers.get(i).address(), "slot " + i);
    }
  }

  @Test
  void launchArguments_otherTypes_areRefusedNamingTheKernelAndPosition() {
    RuntimeKernels.Arguments slots = new RuntimeKernels.Arguments();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> slots.put("scan", 2, 1.0));
    assertTrue(e.getMessage().startsWith("scan: argument 2 is a java.lang.Double"), e.getMessage());
  }
}
