package org.fastllm.modules.mlp;

import static org.quicktheories.QuickTheory.qt;

import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.Activation;
import org.fastllm.modules.testing.LayerCheck;
import org.fastllm.modules.testing.SlowReference;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.impl.Constraint;

class MlpTest {
  record Case(int ffn, boolean gated, Activation activation, boolean biases, boolean single) {}

  static final Gen<Case> CASES = in -> new Case((int) in.next(Constraint.between(1, 12)),
      in.next(Constraint.between(0, 1)) == 1, Activation.values()[(int) in.next(Constraint.between(0, 3))],
      in.next(Constraint.between(0, 1)) == 1, in.next(Constraint.between(0, 1)) == 1);

  @Test
  void forward_randomShapes_matchesWrittenOutFormulas() {
    qt().withExamples(30).withShrinkCycles(0).forAll(CASES).checkAssert(c -> {
      Mlp mlp = new Mlp(6, c.ffn(), c.gated(), c.activation(), c.biases());
      LayerCheck.against(mlp, (x, p) -> SlowReference.mlp(x, p, c.gated(), c.activation()))
          .run(c.single() ? torch.ScalarType.Float : torch.ScalarType.Double, c.single() ? 1e-4 : 1e-6, c.toString(),
              2, 3, 6);
    });
  }
}
