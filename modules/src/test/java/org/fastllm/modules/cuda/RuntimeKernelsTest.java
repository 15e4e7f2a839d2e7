package org.fastllm.modules.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * What can be checked without a GPU: how launch arguments are laid out for {@code cuLaunchKernel}, and the source
 * text NVRTC gets (includes inlined).
 */
class RuntimeKernelsTest {

  @Test
  void source_inlinesEachIncludeOnce_withLineMarksBackToTheIncludingFile() {
    String source = RuntimeKernels.source("org/fastllm/modules/cuda/testing/includes.cu");

    assertEquals(1, source.split("store_bf16\\(float f\\)", -1).length - 1, "the header's text, once");
    assertTrue(source.contains("#line 1 \"org/fastllm/modules/cuda/bf16.cuh\""), source);
    assertTrue(source.contains("#line 3 \"org/fastllm/modules/cuda/testing/includes.cu\""), source);
    assertTrue(source.endsWith("int after;\n"), source);
    assertTrue(source.lines().noneMatch(l -> l.startsWith("#include")), source);
  }

  @Test
  void source_everyKernelOfTheProject_hasItsIncludesInlined() {
    for (String kernel : new String[] {"attention/rotary.cu", "loss/cross_entropy.cu", "norm/norm.cu",
        "optim/adamw.cu", "ssm/selective_scan.cu"}) {
      String source = RuntimeKernels.source("org/fastllm/modules/" + kernel);
      assertTrue(source.lines().noneMatch(l -> l.trim().startsWith("#include")), kernel);
      assertTrue(kernel.startsWith("ssm") || source.contains("unsigned short store_bf16(float f)"), kernel);
    }
  }

  @Test
  void source_missingInclude_namesTheFileAndThePath() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> RuntimeKernels.source("org/fastllm/modules/cuda/testing/broken.cu"));
    assertEquals("org/fastllm/modules/cuda/testing/broken.cu includes \"missing.cuh\", but "
        + "org/fastllm/modules/cuda/testing/missing.cuh is not on the class path", e.getMessage());
  }

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
