package org.fastllm.modules.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.fastllm.dsl.config.KernelChoice;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every choice of training.kernels.adamw and bf16_copies against what the run allows: what runs, or the refusal. */
class UpdatePathsTest {
  static final CopyConditions GPU = new CopyConditions(true, true, 1, 1);

  static CopyConditions run(String where) {
    return switch (where) {
      case "gpu" -> GPU;
      case "cpu" -> new CopyConditions(false, false, 1, 1);
      case "fp32" -> new CopyConditions(true, false, 1, 1);
      case "two" -> new CopyConditions(true, true, 2, 1);
      case "accumulating" -> new CopyConditions(true, true, 1, 4);
      case "unchecked" -> null;
      default -> throw new IllegalArgumentException(where);
    };
  }

  @ParameterizedTest(name = "adamw {0} (kernel {1}), bf16_copies {2} on {3}, flat {4}")
  @CsvSource(delimiter = '|', textBlock = """
      AUTO | true  | AUTO | gpu          | false | fused                                                    | 3 tensors
      AUTO | false | AUTO | gpu          | false | tensor operations (this libtorch has no aten::_fused_adamw_) | 3 tensors
      OFF  | true  | ON   | gpu          | false | tensor operations (off)                                  | 3 tensors
      ON   | true  | OFF  | gpu          | false | fused                                                    | off
      AUTO | true  | AUTO | cpu          | false | fused                                                    | off (the run is on the CPU)
      AUTO | true  | AUTO | fp32         | false | fused                                                    | off (training.precision is fp32, so there is no bf16 autocast)
      AUTO | true  | AUTO | two          | true  | fused                                                    | off (the run has 2 processes)
      AUTO | true  | AUTO | accumulating | false | fused                                                    | off (training.gradient_accumulation is 4, and the copies' gradients would add up in bfloat16)
      AUTO | true  | AUTO | unchecked    | true  | fused                                                    | off (the gradients are flat buffers: a data-parallel run, a training step replayed from a CUDA graph for a model whose single-use linear weights hold under 2^28 parameters, or -Dfastllm.flatGradients=true)
      AUTO | true  | ON   | unchecked    | false | fused                                                    | 3 tensors
      """)
  void choose_possibleChoices_reportWhatRuns(KernelChoice adamw, boolean available, KernelChoice copies, String where,
      boolean flat, String adamwRuns, String copiesRun) {
    UpdatePaths paths = UpdatePaths.choose(adamw, available, copies, run(where), flat);

    assertThat(paths.report(3)).containsExactly(java.util.Map.entry("adamw", adamwRuns),
        java.util.Map.entry("bf16_copies", copiesRun));
  }

  @ParameterizedTest(name = "adamw {0} (kernel {1}), bf16_copies {2} on {3}, flat {4}")
  @CsvSource(delimiter = '|', textBlock = """
      ON   | false | OFF | gpu          | false | training.kernels.adamw is on, but the fused AdamW kernel cannot run: this libtorch has no aten::_fused_adamw_; set it to auto or off
      AUTO | true  | ON  | cpu          | false | training.kernels.bf16_copies is on, but AdamW cannot keep bfloat16 weight copies: the run is on the CPU; set it to auto or off
      AUTO | true  | ON  | fp32         | false | training.kernels.bf16_copies is on, but AdamW cannot keep bfloat16 weight copies: training.precision is fp32, so there is no bf16 autocast; set it to auto or off
      AUTO | true  | ON  | two          | true  | training.kernels.bf16_copies is on, but AdamW cannot keep bfloat16 weight copies: the run has 2 processes; set it to auto or off
      AUTO | true  | ON  | accumulating | false | training.kernels.bf16_copies is on, but AdamW cannot keep bfloat16 weight copies: training.gradient_accumulation is 4, and the copies' gradients would add up in bfloat16; set it to auto or off
      AUTO | true  | ON  | gpu          | true  | training.kernels.bf16_copies is on, but AdamW cannot keep bfloat16 weight copies: the gradients are flat buffers: a data-parallel run, a training step replayed from a CUDA graph for a model whose single-use linear weights hold under 2^28 parameters, or -Dfastllm.flatGradients=true; set it to auto or off
      """)
  void choose_onWhereItCannotRun_isRefusedNamingTheKeyAndTheReason(KernelChoice adamw, boolean available,
      KernelChoice copies, String where, boolean flat, String message) {
    assertThatThrownBy(() -> UpdatePaths.choose(adamw, available, copies, run(where), flat))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }

  @ParameterizedTest(name = "{0} copies kept")
  @CsvSource(delimiter = '|', textBlock = """
      0 | off (no float32 single-use linear weight is optimized)
      1 | 1 tensor
      """)
  void report_copiesAllowed_countsWhatWasKept(int kept, String copiesRun) {
    assertThat(UpdatePaths.choose(KernelChoice.AUTO, true, KernelChoice.AUTO, GPU, false).report(kept))
        .containsEntry("bf16_copies", copiesRun);
  }
}
