package org.fastllm.dsl.bind;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigMapperTest {

  /** Regression: Jackson's SNAKE_CASE made nVHeads 'n_vheads', so the spec's n_v_heads was an unknown key. */
  @ParameterizedTest
  @CsvSource(textBlock = """
      numHeads,   num_heads
      dXb,        d_xb
      nQkHeads,   n_qk_heads
      nVHeads,    n_v_heads
      hiddenSize, hidden_size
      """)
  void keyOf_breaksBeforeEveryCapital(String component, String key) {
    assertEquals(key, ConfigMapper.keyOf(component));
  }
}
