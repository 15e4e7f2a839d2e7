package org.fastllm.modules.checkpoint;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.stack.LanguageModel;

/**
 * What a checkpoint stores of a model (each tensor once, plus the names that share it) and the rule saved tensors
 * must meet to be copied back: the same names with the same shapes.
 */
final class ModelTensors {
  private static final int LISTED_PROBLEMS = 5;

  private ModelTensors() {}

  /** Each unique tensor under its first name. */
  static Map<String, Tensor> weights(LanguageModel model) {
    Map<String, Tensor> weights = new LinkedHashMap<>();
    model.uniqueParameters().forEach(p -> weights.put(p.name(), p.tensor()));
    return weights;
  }

  /** Every later name of a shared tensor, mapped to the name it is stored under. */
  static Map<String, String> sharingMap(LanguageModel model) {
    StringTensorDict named = model.named_parameters(true);
    Map<Long, String> first = new HashMap<>();
    Map<String, String> shared = new LinkedHashMap<>();
    for (long i = 0; i < named.size(); i++) {
      Tensor tensor = new Tensor(named.get(i).value());
      String name = named.get(i).key().getString();
      String stored = first.putIfAbsent(tensor.unsafeGetTensorImpl().address(), name);
      if (stored != null) {
        shared.put(name, stored);
      }
    }
    return shared;
  }

  /**
   * Fails unless {@code saved} (read from {@code file}) has exactly the names and shapes of {@code wanted}; the
   * message lists the first five differences. {@code what} names the receiver, e.g. "the model".
   */
  static void checkFits(Path file, Map<String, Tensor> saved, Map<String, Tensor> wanted, String what) {
    List<String> problems = differences(saved, wanted, "the checkpoint");
    if (!problems.isEmpty()) {
      throw new CheckpointException(file + ": does not fit " + what + " of the config: " + String.join("; ",
          problems.subList(0, Math.min(LISTED_PROBLEMS, problems.size())))
          + (problems.size() > LISTED_PROBLEMS ? "; and " + (problems.size() - LISTED_PROBLEMS) + " more" : ""));
    }
  }

  /**
   * Each tensor of {@code wanted} that {@code saved} lacks or holds in another shape, then each it holds beyond
   * {@code wanted}; {@code source} names where {@code saved} came from ("the checkpoint", a folder).
   */
  static List<String> differences(Map<String, Tensor> saved, Map<String, Tensor> wanted, String source) {
    List<String> problems = new ArrayList<>();
    wanted.forEach((name, tensor) -> {
      Tensor s = saved.get(name);
      if (s == null) {
        problems.add("'" + name + "' " + Shapes.text(tensor) + " is missing from " + source);
      } else if (!Arrays.equals(Shapes.of(s), Shapes.of(tensor))) {
        problems.add("'" + name + "' has shape " + Shapes.text(s) + " in " + source + ", " + Shapes.text(tensor)
            + " in the model");
      }
    });
    saved.keySet().stream().filter(n -> !wanted.containsKey(n))
        .forEach(n -> problems.add("'" + n + "' is in " + source + " but not in the model"));
    return problems;
  }

  /** Copies each saved tensor into the target of the same name, outside autograd. */
  static void copyInto(Map<String, Tensor> targets, Map<String, Tensor> saved) {
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      targets.forEach((name, tensor) -> tensor.copy_(saved.get(name)));
    }
  }
}
