package org.fastllm.docs;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code <pre>{@code ...}}</pre>} block of a Javadoc comment in a {@code src/main/java} file: where it is, how its
 * {@code <pre>} tag reads, and its lines as Javadoc renders them (leading {@code *} removed).
 *
 * <pre>{@code
 * // given Path root
 * JavadocExample.in(root, Path.of("modules/src/main/java/org/fastllm/modules/stack/LanguageModel.java"))
 * }</pre>
 *
 * @param file the documented source file, relative to the repository root
 * @param line the file's line of the block's first line (the one with {@code {@code})
 * @param preTag the opening tag as written, {@code <pre>} or {@code <pre class="yaml">}
 * @param lines the block's text, one entry per source line; the first is what follows {@code {@code} on its line
 */
record JavadocExample(Path file, int line, String preTag, List<String> lines) {
  private static final Pattern COMMENT = Pattern.compile("/\\*\\*.*?\\*/", Pattern.DOTALL);
  private static final Pattern BLOCK = Pattern.compile("(<pre(?:\\s[^>]*)?>)\\{@code(.*?)}\\s*</pre>", Pattern.DOTALL);
  private static final Pattern PRE_CLASS = Pattern.compile("class\\s*=\\s*\"([^\"]*)\"");
  private static final Pattern LEADING_STAR = Pattern.compile("^\\s*\\* ?");
  /** Java never starts a statement like these; see {@link #isJava()}. */
  private static final Pattern NOT_JAVA_START = Pattern.compile(
      "^(?:[A-Za-z_][\\w.\\[\\]-]*:(?:\\s|$)"   // YAML, or a message a validator prints: "model.blocks.a.x: must ..."
          + "|\\{\""                           // JSON
          + "|\\["                             // printed output: "[####----] step 100/200"
          + "|java\\s+-|mvn\\s|bin/|\\./|\\$\\s"   // a command line
          + "|#|__global__|extern \"C\")");    // CUDA C++
  private static final Pattern TYPE_DECLARATION = Pattern.compile("(@\\w+(\\([^)]*\\))?\\s*)*"
      + "((public|protected|private|abstract|final|static|sealed|non-sealed|strictfp)\\s+)*"
      + "(class|record|interface|enum|@interface)\\s");
  private static final Pattern GIVEN = Pattern.compile("^\\s*//\\s*given\\s+(.+?)\\s*$");

  /** Every block of every Javadoc comment of {@code file} (a path relative to {@code root}), in file order. */
  static List<JavadocExample> in(Path root, Path file) {
    String text;
    try {
      text = Files.readString(root.resolve(file));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<JavadocExample> examples = new ArrayList<>();
    Matcher comment = COMMENT.matcher(text);
    while (comment.find()) {
      Matcher block = BLOCK.matcher(text).region(comment.start(), comment.end());
      while (block.find()) {
        int line = lineOf(text, block.start(2));
        examples.add(new JavadocExample(file, line, block.group(1), renderedLines(block.group(2))));
      }
    }
    return examples;
  }

  /** The {@code src/main/java} files under {@code root}, relative to it, sorted; build output is skipped. */
  static List<Path> sourceFiles(Path root) {
    List<Path> files = new ArrayList<>();
    try {
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
          String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
          return !dir.equals(root) && (name.equals("target") || name.startsWith("."))
              ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
          Path relative = root.relativize(file);
          String slashed = "/" + relative.toString().replace(File.separatorChar, '/');
          if (slashed.endsWith(".java") && slashed.contains("/src/main/java/")) {
            files.add(relative);
          }
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files.stream().sorted().toList();
  }

  private static int lineOf(String text, int offset) {
    int line = 1;
    for (int i = 0; i < offset; i++) {
      if (text.charAt(i) == '\n') {
        line++;
      }
    }
    return line;
  }

  /** Javadoc drops each line's leading whitespace and {@code *}, and one space after it. */
  private static List<String> renderedLines(String body) {
    String[] raw = body.split("\n", -1);
    List<String> lines = new ArrayList<>();
    lines.add(raw[0].startsWith(" ") ? raw[0].substring(1) : raw[0]);
    for (int i = 1; i < raw.length; i++) {
      lines.add(LEADING_STAR.matcher(raw[i]).replaceFirst(""));
    }
    return List.copyOf(lines);
  }

  /**
   * Whether the block is Java, to be compiled. <b>A block is Java unless its {@code <pre>} names another language
   * ({@code <pre class="yaml">}, {@code "shell"}, {@code "text"}, {@code "outline"}: any class but {@code "java"}) or
   * its first line reads as one:</b> a YAML key or config path followed by a colon ({@code model:},
   * {@code bob: {kind: ssm}}, {@code model.blocks.a.x: must be ...}), JSON ({@code {"}), printed output
   * ({@code [}), a command line ({@code java -jar}, {@code mvn}, {@code bin/}, {@code ./}, {@code $ }) or CUDA
   * ({@code #include}, {@code __global__}, {@code extern "C"}). No Java statement or declaration starts so (a
   * labelled statement, {@code outer: for ...}, would; examples have none).
   */
  boolean isJava() {
    Matcher language = PRE_CLASS.matcher(preTag);
    if (language.find()) {
      return language.group(1).equals("java");
    }
    String first = lines.stream().filter(l -> !l.isBlank()).findFirst().orElse("");
    return !NOT_JAVA_START.matcher(first.strip()).find();
  }

  /**
   * The example's free variables, a Java parameter list: the text of its {@code // given ...} lines joined by
   * commas ({@code // given LanguageModel model, Tensor tokens}); empty when it has none.
   */
  String given() {
    return String.join(", ", lines.stream().map(GIVEN::matcher).filter(Matcher::matches).map(m -> m.group(1))
        .toList());
  }

  /** Whether {@code line} is a {@code // given ...} line. */
  static boolean isGiven(String line) {
    return GIVEN.matcher(line).matches();
  }

  /** Whether the example declares a type ({@code public final class MyPlugin ...}) rather than running statements. */
  boolean isDeclaration() {
    String code = String.join(" ", lines.stream().filter(l -> !l.strip().startsWith("//")).toList()).strip();
    return TYPE_DECLARATION.matcher(code).lookingAt();
  }

  /** {@code modules/src/main/java/.../LanguageModel.java:27}, the file and line an editor jumps to. */
  String where(int lineInBlock) {
    return file + ":" + (line + lineInBlock);
  }
}
