package org.fastllm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.modules.checkpoint.InitialWeights;
import org.fastllm.modules.train.Trainer;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;
import org.fastllm.validation.rules.ArchitectureCheck;

/**
 * {@code train --init-from DIR [--init-from-partial]}: a fresh run (new optimizer, step 0) whose model starts from
 * the weights of DIR instead of a random init.
 *
 * <pre>{@code
 * // given InitialWeights weights, Trainer trainer, ConfigDocument run, ConfigLoader loader, PrintWriter err
 * boolean started = InitFrom.apply(weights, trainer, run, loader, false, true, err);   // false: refused
 * }</pre>
 *
 * <p><b>Without the partial option, every tensor and every model key must match DIR's; with it, each tensor whose
 * name and shape match is taken and the others are listed per layer as initialised fresh.</b>
 */
final class InitFrom {
  private InitFrom() {}

  /**
   * Copies the weights into the trainer's model, or prints why not and returns false: the model keys of DIR's config
   * that differ from the run's and the tensors missing, extra or of another shape. {@code report}: print what was
   * taken (rank 0 only).
   */
  static boolean apply(InitialWeights weights, Trainer trainer, ConfigDocument run, ConfigLoader loader,
      boolean partial, boolean report, PrintWriter err) {
    LoadedConfig then = loader.load(weights.folder().resolve("config.yaml").toString(), weights.configYaml());
    List<String> differences = new ArrayList<>(ArchitectureCheck.differences(then.model(), run.model(),
        loader.kinds(), weights.folder().toString()));
    differences.addAll(weights.differences(trainer.model()));
    if (!partial) {
      if (!differences.isEmpty()) {
        err.println("error: --init-from " + weights.folder() + ": its model differs from the run's config (give "
            + "--init-from-partial to take the tensors whose name and shape match):");
        differences.forEach(d -> err.println("  " + d));
        return false;
      }
      weights.copyInto(trainer.model());
      trainer.weightsReplaced();
      if (report) {
        err.println("initialised from " + weights.folder() + " (fresh optimizer, step 0)");
      }
      return true;
    }
    Map<String, List<String>> fresh = weights.copyMatching(trainer.model());
    trainer.weightsReplaced();
    if (report) {
      printPartial(weights.folder(), fresh, weights.unused(trainer.model()), err);
    }
    return true;
  }

  private static void printPartial(Path folder, Map<String, List<String>> fresh, List<String> unused,
      PrintWriter err) {
    if (fresh.isEmpty()) {
      err.println("initialised from " + folder + ": every tensor (fresh optimizer, step 0)");
    } else {
      err.println("initialised from " + folder + " where name and shape match (fresh optimizer, step 0); "
          + "initialised fresh instead:");
      fresh.forEach((group, names) -> err.println("  " + group + ": " + String.join(", ",
          names.stream().map(n -> n.startsWith(group + ".") ? n.substring(group.length() + 1) : n).toList())));
    }
    if (!unused.isEmpty()) {
      err.println("  not used from " + folder + ": " + String.join(", ", unused));
    }
  }
}
