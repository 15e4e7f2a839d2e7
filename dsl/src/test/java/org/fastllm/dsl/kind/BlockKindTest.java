package org.fastllm.dsl.kind;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import jakarta.validation.Valid;
import java.util.List;
import org.fastllm.dsl.Block;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.rules.ValidCommonBlockKeys;
import org.junit.jupiter.api.Test;

/** A kind's config record holds the common keys first, in {@code common}, and then only keys of its own. */
class BlockKindTest {

  @Block(kind = "own_lr")
  record OwnLrScale(CommonBlockKeys common, Double lrScale) implements BlockConfig {
    @Override
    public BlockConfig withDefaults(ModelDefaults defaults) {
      return this;
    }
  }

  @Block(kind = "late")
  record CommonLast(Integer width, CommonBlockKeys common) implements BlockConfig {
    @Override
    public BlockConfig withDefaults(ModelDefaults defaults) {
      return this;
    }
  }

  @Block(kind = "cascaded")
  record ValidatedCommon(@Valid CommonBlockKeys common) implements BlockConfig {
    @Override
    public BlockConfig withDefaults(ModelDefaults defaults) {
      return this;
    }
  }

  @Block(kind = "twice")
  @ValidCommonBlockKeys
  record RuleRepeated(CommonBlockKeys common) implements BlockConfig {
    @Override
    public BlockConfig withDefaults(ModelDefaults defaults) {
      return this;
    }
  }

  @Test
  void of_recordWithCommonFirst_isTheKind() {
    assertThat(BlockKind.of(EchoBlockConfig.class, c -> List.of()).kind()).isEqualTo("echo");
  }

  @Test
  void of_recordRepeatingACommonKey_namesTheKey() {
    assertThatThrownBy(() -> BlockKind.of(OwnLrScale.class, c -> List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(OwnLrScale.class.getName() + " declares 'lrScale', one of the keys every block has:"
            + " CommonBlockKeys holds it already; declare only the kind's own keys");
  }

  @Test
  void of_recordWithCommonNotFirst_saysWhereItGoes() {
    assertThatThrownBy(() -> BlockKind.of(CommonLast.class, c -> List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(CommonLast.class.getName() + " must be a record whose first component is"
            + " 'CommonBlockKeys common', followed by the kind's own keys");
  }

  @Test
  void of_recordRepeatingTheCommonRule_wouldReportTwiceAndIsRefused() {
    assertThatThrownBy(() -> BlockKind.of(RuleRepeated.class, c -> List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(RuleRepeated.class.getName() + " repeats @ValidCommonBlockKeys: BlockConfig declares it for every"
            + " kind, and each problem would be reported twice; remove it");
  }

  @Test
  void of_recordMarkingCommonValid_wouldReportTwiceAndIsRefused() {
    assertThatThrownBy(() -> BlockKind.of(ValidatedCommon.class, c -> List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(ValidatedCommon.class.getName() + " marks 'common' @Valid: the loader checks the common keys of"
            + " every block itself, and would report each problem twice; remove it");
  }
}
