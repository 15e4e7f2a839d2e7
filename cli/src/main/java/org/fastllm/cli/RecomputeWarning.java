package org.fastllm.cli;

import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.fastllm.modules.stack.LanguageModel;

/**
 * The warning {@code generate} prints once when some blocks of the model have no step function, so that a user who
 * finds generation slow knows which blocks make it so.
 *
 * <pre>{@code
 * // given LanguageModel model, java.io.PrintWriter err
 * RecomputeWarning.of(model).ifPresent(err::println);
 * }</pre>
 *
 * <p><b>Such blocks still give the right tokens:</b> their layers run the whole sequence so far again for each new
 * token instead of continuing from a cache, so each token costs more than the one before.
 */
final class RecomputeWarning {
  private RecomputeWarning() {}

  /** The warning line for {@code model}, or empty when every layer decodes from a cache of its own. */
  static Optional<String> of(LanguageModel model) {
    List<String> blocks = model.recomputingBlocks();
    if (blocks.isEmpty()) {
      return Optional.empty();
    }
    String names = blocks.stream().map(b -> "'" + b + "'").collect(Collectors.joining(", "));
    boolean one = blocks.size() == 1;
    return Optional.of("warning: " + (one ? "block " : "blocks ") + names + (one ? " has" : " have")
        + " no step function: " + (one ? "its" : "their") + " layers recompute the whole sequence at every new token,"
        + " which is slower than decoding from a cache and slows down as the text grows");
  }
}
