package org.fastllm.modules.cuda;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.bytedeco.pytorch.Tensor;

/**
 * The parameters of one {@code extern "C" __global__} kernel as its source declares them, and the check that a
 * launch's arguments match them in number and kind: {@code cuLaunchKernel} copies each argument's bytes blindly, so
 * a {@code Long} where the kernel reads an {@code int} would shift every later argument without an error.
 *
 * <pre>{@code
 * // given String resource, Object[] arguments
 * List<KernelSignature> rotary = KernelSignature.parseAll(KernelSource.inline(resource)).get("rotary");
 * KernelSignature.check(resource, rotary, arguments);   // refused: the kernel, the parameter and both types
 * }</pre>
 *
 * <p>Tensors pass their data pointer to a pointer parameter ({@code float*}, {@code const element*}); {@code Integer}
 * an {@code int}, {@code Long} a {@code long long}, {@code Float} a {@code float}. The source is read without its
 * preprocessor: a kernel declared under {@code #if} branches with different parameters accepts what matches any.
 */
record KernelSignature(String kernel, List<Parameter> parameters) {
  private static final Pattern COMMENTS = Pattern.compile("//[^\n]*|/\\*.*?\\*/", Pattern.DOTALL);
  private static final Pattern GLOBAL = Pattern.compile("extern\\s+\"C\"\\s+__global__\\b");
  private static final Pattern IDENTIFIER = Pattern.compile("\\G\\s*(\\w+)\\s*");
  private static final Pattern NAMED = Pattern.compile("^(.*?)(\\w+)\\s*(\\[\\s*\\])?$", Pattern.DOTALL);

  KernelSignature {
    parameters = List.copyOf(parameters);
  }

  /** What a parameter takes, as far as launching goes. */
  enum Kind {
    POINTER("a tensor"), INT("an Integer"), LONG("a Long"), FLOAT("a Float"), UNSUPPORTED(null);

    /** What a launch passes for this kind; null for none. */
    private final String argument;

    Kind(String argument) {
      this.argument = argument;
    }

    /** The kind of a launch argument, or null for a type launches do not pass. */
    static Kind of(Object argument) {
      if (argument instanceof Tensor) {
        return POINTER;
      } else if (argument instanceof Integer) {
        return INT;
      } else if (argument instanceof Long) {
        return LONG;
      } else if (argument instanceof Float) {
        return FLOAT;
      }
      return null;
    }
  }

  /** One parameter: its name and type as declared ({@code const float*}), and its kind. */
  record Parameter(String name, String type, Kind kind) {}

  /**
   * Every {@code extern "C" __global__} kernel of {@code source} by name (a kernel declared more than once: every
   * distinct declaration, in source order).
   */
  static Map<String, List<KernelSignature>> parseAll(String source) {
    String text = COMMENTS.matcher(source).replaceAll(" ");
    Map<String, List<KernelSignature>> kernels = new LinkedHashMap<>();
    Matcher global = GLOBAL.matcher(text);
    while (global.find()) {
      KernelSignature signature = parseAt(text, global.end());
      if (signature != null) {
        List<KernelSignature> known = kernels.computeIfAbsent(signature.kernel(), k -> new ArrayList<>());
        if (!known.contains(signature)) {
          known.add(signature);
        }
      }
    }
    return kernels;
  }

  /** The kernel declared after {@code extern "C" __global__} at {@code from}, or null where none can be read. */
  private static KernelSignature parseAt(String text, int from) {
    int at = from;
    Matcher identifier = IDENTIFIER.matcher(text);
    while (identifier.find(at)) {
      String word = identifier.group(1);
      at = identifier.end();
      boolean call = at < text.length() && text.charAt(at) == '(';
      if (!call) {
        continue;   // void, __noinline__, ...
      }
      int close = closing(text, at);
      if (close < 0) {
        return null;
      }
      if (word.equals("__launch_bounds__")) {
        at = close + 1;
        continue;
      }
      return new KernelSignature(word, parameters(text.substring(at + 1, close)));
    }
    return null;
  }

  /** The index of the parenthesis closing the one at {@code open}, or -1. */
  private static int closing(String text, int open) {
    int depth = 0;
    for (int i = open; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '(') {
        depth++;
      } else if (c == ')' && --depth == 0) {
        return i;
      }
    }
    return -1;
  }

  private static List<Parameter> parameters(String list) {
    List<Parameter> parameters = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i <= list.length(); i++) {
      char c = i < list.length() ? list.charAt(i) : ',';
      if (c == '(' || c == '<' || c == '[') {
        depth++;
      } else if (c == ')' || c == '>' || c == ']') {
        depth--;
      } else if (c == ',' && depth == 0) {
        String declared = list.substring(start, i).trim().replaceAll("\\s+", " ");
        if (!declared.isEmpty() && !declared.equals("void")) {
          parameters.add(parameter(declared));
        }
        start = i + 1;
      }
    }
    return parameters;
  }

  private static Parameter parameter(String declared) {
    Matcher named = NAMED.matcher(declared);
    if (!named.matches() || named.group(1).isBlank()) {
      return new Parameter(declared, declared, Kind.UNSUPPORTED);
    }
    String type = (named.group(1) + (named.group(3) != null ? "*" : ""))
        .replaceAll("\\b__restrict(__)?\\b", " ").replaceAll("\\s*\\*\\s*", "*").replaceAll("\\s+", " ").trim();
    return new Parameter(named.group(2), type, kind(type));
  }

  private static Kind kind(String type) {
    if (type.contains("*")) {
      return Kind.POINTER;
    }
    String bare = type.replaceAll("\\b(const|volatile)\\b", " ").replaceAll("\\s+", " ").trim();
    return switch (bare) {
      case "int", "signed int", "unsigned int", "unsigned" -> Kind.INT;
      case "long long", "long long int", "unsigned long long", "unsigned long long int" -> Kind.LONG;
      case "float" -> Kind.FLOAT;
      default -> Kind.UNSUPPORTED;
    };
  }

  /** Null when {@code arguments} match this signature, otherwise why not, naming the kernel and {@code resource}. */
  String mismatch(String resource, Object[] arguments) {
    String kernelOf = "kernel " + kernel + " of " + resource;
    if (arguments.length != parameters.size()) {
      return kernelOf + " takes " + parameters.size() + " arguments ("
          + parameters.stream().map(p -> p.type() + " " + p.name()).collect(Collectors.joining(", ")) + "), got "
          + arguments.length;
    }
    for (int i = 0; i < arguments.length; i++) {
      Parameter parameter = parameters.get(i);
      Kind given = Kind.of(arguments[i]);
      if (given != parameter.kind()) {
        String what = arguments[i] == null ? "null"
            : given != null ? given.argument : "a " + arguments[i].getClass().getName();
        String wanted = parameter.kind().argument != null ? " (pass " + parameter.kind().argument + ")"
            : ", which no launch passes (tensors go to pointers, Integers to int, Longs to long long, Floats to float)";
        return kernelOf + ": argument " + i + " is " + what + ", but parameter '" + parameter.name() + "' is "
            + parameter.type() + wanted;
      }
    }
    return null;
  }

  /**
   * Refuses arguments that match none of {@code declarations} (the first one's mismatch is the message).
   *
   * @throws IllegalArgumentException naming the kernel, the parameter and both types
   */
  static void check(String resource, List<KernelSignature> declarations, Object[] arguments) {
    String first = null;
    for (KernelSignature declaration : declarations) {
      String mismatch = declaration.mismatch(resource, arguments);
      if (mismatch == null) {
        return;
      }
      first = first == null ? mismatch : first;
    }
    throw new IllegalArgumentException(first);
  }
}
