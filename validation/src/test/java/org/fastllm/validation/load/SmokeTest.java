package org.fastllm.validation.load;

import org.junit.jupiter.api.Test;

class SmokeTest {
  @Test
  void smoke() throws Exception {
    var loader = ConfigLoader.standard();
    var c = loader.load(java.nio.file.Path.of(getClass().getResource("/seed/many-blocks.yaml").toURI()));
    System.out.println(c.count());
    System.out.println(c.warnings());
    try {
      loader.load("x.yaml", """
          model:
            hidden_size: 1000
            blocks:
              bob: {kind: transformer, attention_type: gqa, num_heads: 6, lora: {rank: 0, targets: [quer]}}
              eve: {kind: ssm, variant: mamba2, d_xb: 24, n_qk_heads: 3, state_size: 16, hidden_size: 12}
            block_pattern: [bob, bobb, eve]
            num_layers: 0
          """);
    } catch (org.fastllm.dsl.problem.InvalidConfigException e) {
      System.out.println(e.getMessage());
    }
    try {
      loader.load("y.yaml", """
          model:
            hiden_size: 1000
            blocks:
              bob: {kind: transformr, num_heads: x}
              eve: {kind: ssm, variant: mamba3, shared_weights: yes, state_size: 1.5, d_inner: 99999999999}
            block_pattern: bob
            num_layers: 1e-5
          """);
    } catch (org.fastllm.dsl.problem.InvalidConfigException e) {
      System.out.println(e.getMessage());
    }
  }
}
