package org.fastllm.modules.cuda;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * What can be checked without a GPU: the source text NVRTC gets (includes inlined), the kernels' parameters read
 * from it and the check of a launch against them, and how launch arguments are laid out for {@code cuLaunchKernel}.
 */
class RuntimeKernelsTest {
  private static final String TESTING = "org/fastllm/modules/cuda/testing/";

  @Nested
  class Source {
    @Test
    void inline_inlinesEachIncludeOnce_withLineMarksBackToTheIncludingFile() {
      String source = KernelSource.inline(TESTING + "includes.cu");

      assertEquals(1, source.split("store_bf16\\(float f\\)", -1).length - 1, "the header's text, once");
      assertTrue(source.contains("#line 1 \"org/fastllm/modules/cuda/bf16.cuh\""), source);
      assertTrue(source.contains("#line 3 \"org/fastllm/modules/cuda/testing/includes.cu\""), source);
      assertTrue(source.endsWith("int after;\n"), source);
      assertTrue(source.lines().noneMatch(l -> l.startsWith("#include")), source);
    }

    @Test
    void inline_everyKernelOfTheProject_hasItsIncludesInlined() {
      for (String kernel : new String[] {"attention/rotary.cu", "loss/cross_entropy.cu", "norm/norm.cu",
          "optim/adamw.cu", "ssm/selective_scan.cu"}) {
        String source = KernelSource.inline("org/fastllm/modules/" + kernel);
        assertTrue(source.lines().noneMatch(l -> l.trim().startsWith("#include")), kernel);
        assertTrue(kernel.startsWith("ssm") || source.contains("unsigned short store_bf16(float f)"), kernel);
      }
    }

    @Test
    void inline_missingInclude_namesTheFileAndThePath() {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> KernelSource.inline(TESTING + "broken.cu"));
      assertEquals("org/fastllm/modules/cuda/testing/broken.cu includes \"missing.cuh\", but "
          + "org/fastllm/modules/cuda/testing/missing.cuh is not on the class path", e.getMessage());
    }
  }

  @Nested
  class Signatures {
    private final Map<String, List<KernelSignature>> declared =
        KernelSignature.parseAll(KernelSource.inline(TESTING + "signatures.cu"));

    private String kinds(String kernel, int declaration) {
      return declared.get(kernel).get(declaration).parameters().stream()
          .map(p -> p.type() + " " + p.name() + ":" + p.kind()).toList().toString();
    }

    @Test
    void parseAll_readsEachExternCKernel_throughCommentsLaunchBoundsAndArrays() {
      assertEquals(List.of("scale", "walk", "pick", "nothing", "wide"), List.copyOf(declared.keySet()));
      assertEquals("[const element* x:POINTER, element* out:POINTER, float by:FLOAT, int n:INT]", kinds("scale", 0));
      assertEquals("[const float* x:POINTER, long long count:LONG, unsigned int flags:INT, float* tables:POINTER]",
          kinds("walk", 0));
      assertEquals("[]", kinds("nothing", 0));
      assertEquals("[double d:UNSUPPORTED, float f:FLOAT]", kinds("wide", 0));
    }

    @Test
    void check_argumentsOfTheDeclaredKinds_pass_andEitherBranchOfAnIfDoes() {
      Tensor t = torch.ones(2);
      assertDoesNotThrow(() -> check("scale", t, t, 2.0f, 3));
      assertDoesNotThrow(() -> check("walk", t, 4L, 1, t));
      assertDoesNotThrow(() -> check("pick", t, 5));
      assertDoesNotThrow(() -> check("pick", t, 5L));
      assertDoesNotThrow(() -> check("nothing"));
    }

    @Test
    void check_wrongKind_namesTheKernelTheParameterAndBothTypes() {
      Tensor t = torch.ones(2);
      assertEquals("kernel scale of org/fastllm/modules/cuda/testing/signatures.cu: argument 3 is a Long, but "
          + "parameter 'n' is int (pass an Integer)", refused("scale", t, t, 2.0f, 3L));
      assertEquals("kernel scale of org/fastllm/modules/cuda/testing/signatures.cu: argument 2 is a "
          + "java.lang.Double, but parameter 'by' is float (pass a Float)", refused("scale", t, t, 2.0, 3));
      assertEquals("kernel scale of org/fastllm/modules/cuda/testing/signatures.cu: argument 0 is an Integer, but "
          + "parameter 'x' is const element* (pass a tensor)", refused("scale", 1, t, 2.0f, 3));
      assertEquals("kernel walk of org/fastllm/modules/cuda/testing/signatures.cu: argument 3 is null, but "
          + "parameter 'tables' is float* (pass a tensor)", refused("walk", t, 4L, 1, null));
    }

    @Test
    void check_wrongCount_listsTheParameters() {
      Tensor t = torch.ones(2);
      assertEquals("kernel scale of org/fastllm/modules/cuda/testing/signatures.cu takes 4 arguments (const "
          + "element* x, element* out, float by, int n), got 3", refused("scale", t, t, 2.0f));
    }

    @Test
    void check_aTypeNoLaunchPasses_orAnUndeclaredKernel_isRefused() {
      assertEquals("kernel wide of org/fastllm/modules/cuda/testing/signatures.cu: argument 0 is a Float, but "
          + "parameter 'd' is double, which no launch passes (tensors go to pointers, Integers to int, Longs to "
          + "long long, Floats to float)", refused("wide", 1.0f, 1.0f));
      assertEquals("org/fastllm/modules/cuda/testing/signatures.cu declares no extern \"C\" __global__ kernel "
          + "not_extern_c (it declares: scale, walk, pick, nothing, wide)", refused("not_extern_c", 1));
    }

    @Test
    void parseAll_everyKernelOfTheProject_takesOnlyKindsALaunchPasses() {
      for (String source : new String[] {"attention/rotary.cu", "loss/cross_entropy.cu", "norm/norm.cu",
          "optim/adamw.cu", "ssm/selective_scan.cu"}) {
        Map<String, List<KernelSignature>> kernels =
            KernelSignature.parseAll(KernelSource.inline("org/fastllm/modules/" + source));
        assertTrue(!kernels.isEmpty(), source);
        kernels.values().forEach(declarations -> declarations.forEach(d -> assertTrue(
            d.parameters().stream().noneMatch(p -> p.kind() == KernelSignature.Kind.UNSUPPORTED), d.toString())));
      }
      assertEquals(19, KernelSignature.parseAll(KernelSource.inline("org/fastllm/modules/ssm/selective_scan.cu"))
          .get("selective_scan_backward").get(0).parameters().size(), "through its __launch_bounds__");
    }

    private void check(String kernel, Object... arguments) {
      RuntimeKernels.check(TESTING + "signatures.cu", KernelLaunch.of(kernel, RuntimeKernels.grid(1, 1), 32,
          arguments));
    }

    private String refused(String kernel, Object... arguments) {
      return assertThrows(IllegalArgumentException.class, () -> check(kernel, arguments)).getMessage();
    }
  }

  @Nested
  class Arguments {
    @Test
    void put_eightBytesEach_pointedToInOrder_andSurviveTheScopeTheyWereMadeIn() {
      LaunchArguments slots;
      Tensor t = torch.ones(4);
      try (PointerScope scope = new PointerScope()) {
        slots = new LaunchArguments();
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
    void put_otherTypes_areRefusedNamingTheKernelAndPosition() {
      LaunchArguments slots = new LaunchArguments();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> slots.put("scan", 2, 1.0));
      assertTrue(e.getMessage().startsWith("scan: argument 2 is a java.lang.Double"), e.getMessage());
    }
  }
}
