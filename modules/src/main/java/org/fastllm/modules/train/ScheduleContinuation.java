package org.fastllm.modules.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Optional;
import org.fastllm.dsl.config.LrSchedule;
import org.fastllm.dsl.config.OptimizerConfig;
import org.fastllm.modules.checkpoint.TrainState;
import org.fastllm.modules.optim.LearningRateSchedule;
import org.fastllm.modules.optim.ScheduleSegment;

/**
 * The learning-rate segment a resumed run follows, and what changed when its {@code training.steps} differs from
 * the checkpoint's run.
 *
 * <pre>{@code
 * // given OptimizerConfig optimizer, TrainState state, String savedYaml
 * ScheduleContinuation.of(optimizer, state, savedYaml, 800).changed().ifPresent(System.err::println);
 * }</pre>
 *
 * @param segment the segment the resumed run follows
 * @param savedSteps the total steps of the checkpoint's schedule
 * @param step the checkpoint's step
 * @param minimum the configured minimum rate
 * @param shape the configured decay
 */
public record ScheduleContinuation(ScheduleSegment segment, int savedSteps, long step, double minimum,
    LrSchedule shape) {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /**
   * The continuation of the run saved in {@code state} (whose config was {@code savedConfigYaml}, read for its
   * {@code training.steps} when the state is older than segments) as a run of {@code newTotal} steps.
   */
  public static ScheduleContinuation of(OptimizerConfig optimizer, TrainState state, String savedConfigYaml,
      int newTotal) {
    ScheduleSegment saved = state.lrSchedule() != null ? state.lrSchedule()
        : ScheduleSegment.whole(savedSteps(savedConfigYaml).orElse(newTotal));
    ScheduleSegment next = new LearningRateSchedule(optimizer, saved).resumedWith(state.step(), newTotal);
    return new ScheduleContinuation(next, saved.totalSteps(), state.step(),
        Math.min(optimizer.minLearningRate(), optimizer.learningRate()), optimizer.schedule());
  }

  /** The line a resume prints when the total steps changed; empty when they did not. */
  public Optional<String> changed() {
    if (segment.totalSteps() == savedSteps) {
      return Optional.empty();
    }
    String head = "resume: training.steps " + savedSteps + " -> " + segment.totalSteps() + "; ";
    if (segment.fromStart()) {
      return Optional.of(head + "the checkpoint at step " + step + " is within the warmup, so the configured "
          + "schedule applies over " + segment.totalSteps() + " steps");
    }
    if (shape == LrSchedule.CONSTANT) {
      return Optional.of(head + "the learning rate stays at " + rate(segment.startRate()));
    }
    return Optional.of(head + "the learning rate continues from " + rate(segment.startRate()) + " at step " + step
        + " and decays to " + rate(minimum) + " by step " + segment.totalSteps());
  }

  private static String rate(double value) {
    return new BigDecimal(value).round(new MathContext(3)).stripTrailingZeros().toString();
  }

  private static Optional<Integer> savedSteps(String yaml) {
    try {
      JsonNode steps = YAML.readTree(yaml).path("training").path("steps");
      return steps.canConvertToInt() ? Optional.of(steps.asInt()) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
