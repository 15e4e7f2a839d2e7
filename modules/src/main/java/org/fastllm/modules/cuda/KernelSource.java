package org.fastllm.modules.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text NVRTC compiles for a kernel resource: each {@code #include "path"} line (a path relative to the
 * resource's folder, as a C compiler reads it) replaced by that resource's text, each included once, between
 * {@code #line} marks so NVRTC's messages name the right file and line.
 *
 * <pre>{@code String text = KernelSource.inline("org/fastllm/modules/ssm/selective_scan.cu");}</pre>
 *
 * <p>NVRTC without the CUDA toolkit's headers has no include path of its own; inlining here lets a source share
 * the project's headers ({@code org/fastllm/modules/cuda/bf16.cuh}) through the class path.
 */
final class KernelSource {
  private static final Pattern INCLUDE = Pattern.compile("(?m)^[ \t]*#include[ \t]+\"([^\"]+)\"[ \t]*$");

  private KernelSource() {}

  /**
   * The source of {@code resource} with its includes inlined.
   *
   * @throws IllegalStateException naming the including file and the path when an included file is not on the class
   *     path
   */
  static String inline(String resource) {
    return expand(resource, new HashSet<>());
  }

  private static String expand(String resource, Set<String> seen) {
    String text = read(resource);
    Matcher include = INCLUDE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (include.find()) {
      String included = URI.create(resource).resolve(include.group(1)).getPath();
      if (KernelSource.class.getClassLoader().getResource(included) == null) {
        throw new IllegalStateException(resource + " includes \"" + include.group(1) + "\", but " + included
            + " is not on the class path");
      }
      long line = text.substring(0, include.end()).chars().filter(c -> c == '\n').count() + 2;
      String replacement = seen.add(included)
          ? "#line 1 \"" + included + "\"\n" + expand(included, seen) + "\n#line " + line + " \"" + resource + "\""
          : "";
      include.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    include.appendTail(out);
    return out.toString();
  }

  private static String read(String resource) {
    try (InputStream in = KernelSource.class.getClassLoader().getResourceAsStream(resource)) {
      return new String(Objects.requireNonNull(in, "no resource " + resource).readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
