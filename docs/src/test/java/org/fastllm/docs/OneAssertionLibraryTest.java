package org.fastllm.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The tests of every module assert with AssertJ alone, so a reader meets one assertion style and one failure
 * format: no test source uses JUnit's {@code Assertions} class. The one member kept is
 * {@code assertTimeoutPreemptively}, which is no assertion but a way of running code on another thread and
 * abandoning it after a limit (the bad-config corpus answers within a second); AssertJ has no such runner.
 *
 * <pre>{@code
 * import static org.assertj.core.api.Assertions.assertThat;   // the one assertion library
 * assertThat(count.total()).isEqualTo(58_880);
 * }</pre>
 */
class OneAssertionLibraryTest {
  /** The tests run in docs/; the modules are its siblings. */
  static final Path PROJECT = Path.of("..");
  static final Set<String> KEPT = Set.of("assertTimeoutPreemptively");

  private static final String JUNIT = "org\\.junit\\.jupiter\\.api";
  /** A static or plain import of the class, one of its members or all of them; or a qualified call. */
  private static final Pattern USE = Pattern.compile("^[ \\t]*import\\s+(?:static\\s+)?" + JUNIT
      + "\\.Assertions(?:\\.(\\w+|\\*))?\\s*;|(?<![\\w.])" + JUNIT + "\\.Assertions\\s*\\.\\s*(\\w+)",
      Pattern.MULTILINE);
  /** The package's wildcard import brings the class in too; then {@code Assertions.x} is JUnit's. */
  private static final Pattern PACKAGE_WILDCARD = Pattern.compile("^[ \\t]*import\\s+" + JUNIT + "\\.\\*\\s*;",
      Pattern.MULTILINE);
  private static final Pattern UNQUALIFIED_CLASS = Pattern.compile("(?<![\\w.])Assertions\\s*\\.\\s*(\\w+)");
  private static final Pattern ASSERTJ_CLASS = Pattern.compile("^[ \\t]*import\\s+org\\.assertj\\.core\\.api"
      + "\\.Assertions\\s*;", Pattern.MULTILINE);
  /** Comments, text blocks, string and character literals: what they say is not code. */
  private static final Pattern NOT_CODE = Pattern.compile("//[^\\n]*|/\\*[\\s\\S]*?\\*/|\"\"\"[\\s\\S]*?(?<!\\\\)\"\"\""
      + "|\"(?:\\\\.|[^\"\\\\\\n])*\"|'(?:\\\\.|[^'\\\\\\n])*'");

  /** Every place in a Java source that uses JUnit's assertions, as {@code LINE: text}. */
  static List<String> junitAssertionUses(String source) {
    String code = blankOutNonCode(source);
    List<String> uses = new ArrayList<>();
    Matcher use = USE.matcher(code);
    while (use.find()) {
      String member = use.group(1) != null ? use.group(1) : use.group(2);
      if (member == null || !KEPT.contains(member)) {
        uses.add(describe(source, use.start()));
      }
    }
    if (PACKAGE_WILDCARD.matcher(code).find() && !ASSERTJ_CLASS.matcher(code).find()) {
      Matcher call = UNQUALIFIED_CLASS.matcher(code);
      while (call.find()) {
        if (!KEPT.contains(call.group(1))) {
          uses.add(describe(source, call.start()));
        }
      }
    }
    return uses;
  }

  /** The source with every comment and literal replaced by blanks, line breaks kept, so offsets stay lines. */
  private static String blankOutNonCode(String source) {
    StringBuilder code = new StringBuilder(source);
    Matcher literal = NOT_CODE.matcher(source);
    while (literal.find()) {
      for (int i = literal.start(); i < literal.end(); i++) {
        if (code.charAt(i) != '\n') {
          code.setCharAt(i, ' ');
        }
      }
    }
    return code.toString();
  }

  private static String describe(String source, int offset) {
    int line = (int) source.substring(0, offset).chars().filter(c -> c == '\n').count() + 1;
    int start = source.lastIndexOf('\n', offset - 1) + 1;
    int end = source.indexOf('\n', offset);
    return line + ": " + source.substring(start, end < 0 ? source.length() : end).strip();
  }

  /** Java sources of every source set but main (src/test, and any integration-test or bench set beside it). */
  static List<Path> testSources() throws IOException {
    try (Stream<Path> files = Files.walk(PROJECT)) {
      return files.filter(f -> f.toString().endsWith(".java") && isTestSource(PROJECT.relativize(f))).sorted()
          .toList();
    }
  }

  private static boolean isTestSource(Path relative) {
    for (int i = 0; i + 1 < relative.getNameCount(); i++) {
      String name = relative.getName(i).toString();
      if (name.equals("target") || name.startsWith(".")) {
        return false;
      }
      if (name.equals("src")) {
        return !relative.getName(i + 1).toString().equals("main");
      }
    }
    return false;
  }

  @Test
  void testSources_useAssertjAlone() throws IOException {
    List<Path> sources = testSources();
    List<String> offenders = new ArrayList<>();
    for (Path file : sources) {
      for (String use : junitAssertionUses(Files.readString(file))) {
        offenders.add(PROJECT.relativize(file) + ":" + use);
      }
    }

    assertThat(sources).as("test sources found under %s", PROJECT.toAbsolutePath().normalize()).hasSizeGreaterThan(50);
    assertThat(offenders).as("test sources that use JUnit's Assertions (assert with org.assertj.core.api.Assertions; "
        + "JUnit's assertTimeoutPreemptively alone may stay)").isEmpty();
  }

  @Test
  void junitAssertionUses_namesImportsWildcardsAndQualifiedCalls() {
    String source = """
        package x;

        import static org.junit.jupiter.api.Assertions.assertAll;
        import static org.junit.jupiter.api.Assertions.*;
        import org.junit.jupiter.api.Assertions;

        class T {
          void t() {
            org.junit.jupiter.api.Assertions.assertEquals(1, 1);
          }
        }
        """;

    assertThat(junitAssertionUses(source)).containsExactly(
        "3: import static org.junit.jupiter.api.Assertions.assertAll;",
        "4: import static org.junit.jupiter.api.Assertions.*;",
        "5: import org.junit.jupiter.api.Assertions;",
        "9: org.junit.jupiter.api.Assertions.assertEquals(1, 1);");
  }

  @Test
  void junitAssertionUses_throughThePackageWildcard_namesTheCall() {
    String source = """
        import org.junit.jupiter.api.*;

        class T {
          @Test
          void t() {
            Assertions.assertTrue(true);
          }
        }
        """;

    assertThat(junitAssertionUses(source)).containsExactly("6: Assertions.assertTrue(true);");
  }

  @Test
  void junitAssertionUses_assertjCommentsLiteralsAndTheKeptRunner_areNotUses() {
    String source = """
        import static org.assertj.core.api.Assertions.assertThat;
        import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

        import org.junit.jupiter.api.*;
        import org.assertj.core.api.Assertions;

        /** Unlike org.junit.jupiter.api.Assertions.assertEquals, ... */
        class T {
          // org.junit.jupiter.api.Assertions.fail() is not used
          String quoted = "org.junit.jupiter.api.Assertions.fail()";
          void t() {
            Assertions.assertThat(1).isOne();
          }
        }
        """;

    assertThat(junitAssertionUses(source)).isEmpty();
  }
}
