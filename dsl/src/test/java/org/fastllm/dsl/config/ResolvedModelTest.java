package org.fastllm.dsl.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResolvedModelTest {
  static final ModelConfig WRITTEN = new ModelConfig(null, null, null, null,
      Map.of("a", TransformerBlockConfig.empty()), List.of("a"), 2, null, null);

  /** The stack builder takes a ResolvedModel, so nothing outside this package may make one but withDefaults. */
  @Test
  void constructors_noneOutsideThePackage() {
    assertThat(Arrays.stream(ResolvedModel.class.getDeclaredConstructors())
        .filter(c -> Modifier.isPublic(c.getModifiers()) || Modifier.isProtected(c.getModifiers()))).isEmpty();
    assertThat(Modifier.isFinal(ResolvedModel.class.getModifiers())).isTrue();
  }

  @Test
  void withDefaults_writtenModel_everyKeyOfTheModelAndItsBlocksFilledIn() {
    ModelConfig resolved = WRITTEN.withDefaults().config();

    assertThat(resolved.hiddenSize()).isEqualTo(ModelConfig.DEFAULT_HIDDEN_SIZE);
    assertThat(resolved.vocabSize()).isEqualTo(ModelConfig.DEFAULT_VOCAB_SIZE);
    assertThat(resolved.normalization()).isEqualTo(NormalizationConfig.DEFAULT);
    assertThat(resolved.blocks().get("a").lrScale()).isEqualTo(1.0);
    assertThat(resolved.blocks().get("a").hiddenSize()).isEqualTo(ModelConfig.DEFAULT_HIDDEN_SIZE);
  }

  @Test
  void withDefaults_ofAResolvedModel_isTheSameModel() {
    ResolvedModel once = WRITTEN.withDefaults();

    assertThat(once.config().withDefaults()).isEqualTo(once);
  }

  @Test
  void withDefaults_ofADocument_resolvesItsModelTheSameWay() {
    assertThat(new ConfigDocument(WRITTEN).withDefaults().model()).isEqualTo(WRITTEN.withDefaults().config());
    assertThat(new ConfigDocument(WRITTEN).withRunDefaults().model()).isEqualTo(WRITTEN.withDefaults().config());
  }
}
