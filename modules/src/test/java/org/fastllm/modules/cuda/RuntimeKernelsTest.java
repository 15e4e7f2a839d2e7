package org.fastllm.modules.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

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

      assertThat(source.split("store_bf16\\(float f\\)", -1).length - 1).as("the header's text, once").isEqualTo(1);
      assertThat(source.contains("#line 1 \"org/fastllm/modules/cuda/bf16.cuh\"")).as(source).isTrue();
      assertThat(source.contains("#line 3 \"org/fastllm/modules/cuda/testing/includes.cu\"")).as(source).isTrue();
      assertThat(source.endsWith("int after;\n")).as(source).isTrue();
      assertThat(source.lines().noneMatch(l -> l.startsWith("#include"))).as(source).isTrue();
    }

    @Test
    void inline_everyKernelOfTheProject_hasItsIncludesInlined() {
      for (String kernel : new String[] {"attention/rotary.cu", "loss/cross_entropy.cu", "norm/norm.cu",
          "optim/adamw.cu", "ssm/selective_scan.cu"}) {
        String source = KernelSource.inline("org/fastllm/modules/" + kernel);
        assertThat(source.lines().noneMatch(l -> l.trim().startsWith("#include"))).as(kernel).isTrue();
        assertThat(kernel.startsWith("ssm") || source.contains("unsigned short store_bf16(float f)"))
            .as(kernel)
            .isTrue();
      }
    }

    @Test
    void inline_missingInclude_namesTheFileAndThePath() {
      IllegalStateException e = catchThrowableOfType(IllegalStateException.class,
          () -> KernelSource.inline(TESTING + "broken.cu"));
      assertThat(e).as("expected IllegalStateException to be thrown").isNotNull();
      assertThat(e.getMessage()).isEqualTo("org/fastllm/modules/cuda/testing/broken.cu includes \"missing.cuh\", but "
          + "org/fastllm/modules/cuda/testing/missing.cuh is not on the class path");
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
      assertThat(List.copyOf(declared.keySet())).isEqualTo(List.of("scale", "walk", "pick", "nothing", "wide"));
      assertThat(kinds("scale", 0))
          .isEqualTo("[const element* x:POINTER, element* out:POINTER, float by:FLOAT, int n:INT]");
      assertThat(kinds("walk", 0))
          .isEqualTo("[const float* x:POINTER, long long count:LONG, unsigned int flags:INT, float* tables:POINTER]");
      assertThat(kinds("nothing", 0)).isEqualTo("[]");
      assertThat(kinds("wide", 0)).isEqualTo("[double d:UNSUPPORTED, float f:FLOAT]");
    }

    @Test
    void check_argumentsOfTheDeclaredKinds_pass_andEitherBranchOfAnIfDoes() {
      Tensor t = torch.ones(2);
      assertThatNoException().isThrownBy(() -> check("scale", t, t, 2.0f, 3));
      assertThatNoException().isThrownBy(() -> check("walk", t, 4L, 1, t));
      assertThatNoException().isThrownBy(() -> check("pick", t, 5));
      assertThatNoException().isThrownBy(() -> check("pick", t, 5L));
      assertThatNoException().isThrownBy(() -> check("nothing"));
    }

    @Test
    void check_wrongKind_namesTheKernelTheParameterAndBothTypes() {
      Tensor t = torch.ones(2);
      assertThat(refused("scale", t, t, 2.0f, 3L))
          .isEqualTo("kernel scale of org/fastllm/modules/cuda/testing/signatures.cu: argument 3 is a Long, but "
              + "parameter 'n' is int (pass an Integer)");
      assertThat(refused("scale", t, t, 2.0, 3))
          .isEqualTo("kernel scale of org/fastllm/modules/cuda/testing/signatures.cu: argument 2 is a "
              + "java.lang.Double, but parameter 'by' is float (pass a Float)");
      assertThat(refused("scale", 1, t, 2.0f, 3))
          .isEqualTo("kernel scale of org/fastllm/modules/cuda/testing/signatures.cu: argument 0 is an Integer, but "
              + "parameter 'x' is const element* (pass a tensor)");
      assertThat(refused("walk", t, 4L, 1, null))
          .isEqualTo("kernel walk of org/fastllm/modules/cuda/testing/signatures.cu: argument 3 is null, but "
              + "parameter 'tables' is float* (pass a tensor)");
    }

    @Test
    void check_wrongCount_listsTheParameters() {
      Tensor t = torch.ones(2);
      assertThat(refused("scale", t, t, 2.0f))
          .isEqualTo("kernel scale of org/fastllm/modules/cuda/testing/signatures.cu takes 4 arguments (const "
              + "element* x, element* out, float by, int n), got 3");
    }

    @Test
    void check_aTypeNoLaunchPasses_orAnUndeclaredKernel_isRefused() {
      assertThat(refused("wide", 1.0f, 1.0f))
          .isEqualTo("kernel wide of org/fastllm/modules/cuda/testing/signatures.cu: argument 0 is a Float, but "
              + "parameter 'd' is double, which no launch passes (tensors go to pointers, Integers to int, Longs to "
              + "long long, Floats to float)");
      assertThat(refused("not_extern_c", 1))
          .isEqualTo("org/fastllm/modules/cuda/testing/signatures.cu declares no extern \"C\" __global__ kernel "
              + "not_extern_c (it declares: scale, walk, pick, nothing, wide)");
    }

    @Test
    void parseAll_everyKernelOfTheProject_takesOnlyKindsALaunchPasses() {
      for (String source : new String[] {"attention/rotary.cu", "loss/cross_entropy.cu", "norm/norm.cu",
          "optim/adamw.cu", "ssm/selective_scan.cu"}) {
        Map<String, List<KernelSignature>> kernels =
            KernelSignature.parseAll(KernelSource.inline("org/fastllm/modules/" + source));
        assertThat(!kernels.isEmpty()).as(source).isTrue();
        kernels.values().forEach(declarations -> declarations.forEach(d -> assertThat(
            d.parameters().stream().noneMatch(p -> p.kind() == KernelSignature.Kind.UNSUPPORTED))
            .as(d.toString()).isTrue()));
      }
      assertThat(KernelSignature.parseAll(KernelSource.inline("org/fastllm/modules/ssm/selective_scan.cu"))
          .get("selective_scan_backward").get(0).parameters().size()).as("through its __launch_bounds__").isEqualTo(19);
    }

    private void check(String kernel, Object... arguments) {
      RuntimeKernels.check(TESTING + "signatures.cu", KernelLaunch.of(kernel, RuntimeKernels.grid(1, 1), 32,
          arguments));
    }

    private String refused(String kernel, Object... arguments) {
      IllegalArgumentException refused = catchThrowableOfType(IllegalArgumentException.class,
          () -> check(kernel, arguments));
      assertThat(refused).as("expected IllegalArgumentException to be thrown").isNotNull();
      return refused.getMessage();
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
      assertThat(slots.values.getLong(0)).as("a tensor passes its data pointer").isEqualTo(t.data_ptr().address());
      assertThat(slots.values.getInt(8)).isEqualTo(7);
      assertThat(slots.values.getLong(16)).isEqualTo(1L << 40);
      assertThat(slots.values.getFloat(24)).isEqualTo(-1.5f);
      for (int i = 0; i < 4; i++) {
        assertThat(slots.pointers.get(i).address()).as("slot " + i).isEqualTo(slots.values.address() + 8L * i);
      }
    }

    @Test
    void put_otherTypes_areRefusedNamingTheKernelAndPosition() {
      LaunchArguments slots = new LaunchArguments();
      IllegalArgumentException e = catchThrowableOfType(IllegalArgumentException.class, () -> slots.put("scan", 2, 1.0));
      assertThat(e).as("expected IllegalArgumentException to be thrown").isNotNull();
      assertThat(e.getMessage().startsWith("scan: argument 2 is a java.lang.Double")).as(e.getMessage()).isTrue();
    }
  }
}
