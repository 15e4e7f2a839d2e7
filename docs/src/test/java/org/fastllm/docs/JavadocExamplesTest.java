package org.fastllm.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fastllm.modules.checkpoint.Checkpoint;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every {@code <pre>{@code ...}}</pre>} example in the Javadoc of the repository's {@code src/main/java} files
 * compiles against the code it documents, and the facts examples quote (the checkpoint format version) are the
 * current ones, so an example cannot drift from the code. Compiling, rather than matching names by reflection, checks
 * arity, argument and return types and visibility as a reader's copy of the example would meet them.
 *
 * <p><b>How an example is compiled</b> ({@link ExampleCompiler}): as the body of a method of a class generated in the
 * documented file's package, with the documented file's imports plus every project package and {@code java.util},
 * {@code java.util.function}, {@code java.io} and {@code java.nio.file} on demand. Its free variables are declared by
 * a first line {@code // given Type name, Type name} (a Java parameter list, which the Javadoc reader sees as the
 * example's inputs); its last statement may be a bare expression with no semicolon
 * ({@code DtRank.AUTO.resolve(1024)  // 64}); an example that declares a type ({@code public final class MyPlugin
 * extends BlockPlugin {...}}) becomes a member of the generated class. Nothing is run and no class is loaded: javac
 * reads class files, so libtorch stays unloaded.
 *
 * <p><b>What is not Java is not compiled:</b> YAML, JSON, command lines, printed output and CUDA are told by their
 * first line, anything else by naming its language, {@code <pre class="text">{@code ...}}</pre>}
 * ({@link JavadocExample#isJava()} has the rule; {@link Classification} tests it). Those blocks are still searched for
 * quoted facts ({@link #staleFormatVersions}).
 */
class JavadocExamplesTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  /** A format version quoted in any example, {@code "format_version": 2} or {@code ("format_version", "2")}. */
  static final Pattern FORMAT_VERSION = Pattern.compile("format_version\\W{1,6}(\\d+)");

  static List<JavadocExample> examples() {
    return JavadocExample.sourceFiles(ROOT).stream().flatMap(f -> JavadocExample.in(ROOT, f).stream()).toList();
  }

  static List<String> compile(List<JavadocExample> examples) {
    return ExampleCompiler.compile(ROOT, examples, System.getProperty("java.class.path")).stream()
        .map(ExampleCompiler.Problem::render).toList();
  }

  /** Each example's quoted format version that is not {@link Checkpoint#FORMAT_VERSION}, as a message. */
  static List<String> staleFormatVersions(List<JavadocExample> examples) {
    List<String> stale = new ArrayList<>();
    for (JavadocExample example : examples) {
      for (int i = 0; i < example.lines().size(); i++) {
        Matcher quoted = FORMAT_VERSION.matcher(example.lines().get(i));
        while (quoted.find()) {
          if (Integer.parseInt(quoted.group(1)) != Checkpoint.FORMAT_VERSION) {
            stale.add(example.where(i) + ": shows format_version " + quoted.group(1) + ", but checkpoints are "
                + "written as version " + Checkpoint.FORMAT_VERSION + " (Checkpoint.FORMAT_VERSION)");
          }
        }
      }
    }
    return stale;
  }

  static JavadocExample example(String file, String... lines) {
    return new JavadocExample(Path.of(file), 100, "<pre>", List.of(lines));
  }

  @Test
  void javaExamples_compileAgainstTheCodeTheyDocument() {
    List<JavadocExample> java = examples().stream().filter(JavadocExample::isJava).toList();

    assertThat(compile(java)).as("Javadoc examples that do not compile (free variables: a first line "
        + "'// given Type name, ...'; not Java: <pre class=\"text\">{@code ...}; see JavadocExamplesTest)").isEmpty();
  }

  @Test
  void examples_quoteTheCurrentFormatVersion() {
    assertThat(staleFormatVersions(examples())).isEmpty();
  }

  @Test
  void examples_areFoundInEveryModuleWithSources() {
    List<JavadocExample> all = examples();

    assertThat(all.stream().filter(JavadocExample::isJava).count()).isGreaterThan(60);
    assertThat(all.stream().map(e -> e.file().getName(0).toString()).distinct())
        .contains("dsl", "validation", "legacy-compat", "modules", "example-plugin", "cli");
    assertThat(all).anySatisfy(e -> assertThat(e.file()).hasFileName("LanguageModel.java"));
  }

  /** The drifts this test was written for, kept as cases that must fail. */
  @Nested
  class Drift {
    @Test
    void compile_libtorchsAdamWCallInLanguageModel_namesTheFileLineAndTheCall() {
      JavadocExample drifted = example("modules/src/main/java/org/fastllm/modules/stack/LanguageModel.java",
          "", "// given LanguageModel model, Object options", "new AdamW(model.trainableTensors(), options);", "");

      assertThat(compile(List.of(drifted))).isNotEmpty().allSatisfy(problem -> assertThat(problem)
          .startsWith("modules/src/main/java/org/fastllm/modules/stack/LanguageModel.java:102: ")
          .endsWith("> new AdamW(model.trainableTensors(), options);"));
    }

    @Test
    void compile_oneArgumentListInFusedAdamW_namesTheMethodThatDoesNotExist() {
      JavadocExample drifted = example("modules/src/main/java/org/fastllm/modules/optim/FusedAdamW.java",
          "", "// given List<Tensor> grads", "FusedAdamW.list(grads);", "");

      assertThat(compile(List.of(drifted))).singleElement().asString()
          .startsWith("modules/src/main/java/org/fastllm/modules/optim/FusedAdamW.java:102: method list in class "
              + "org.fastllm.modules.optim.FusedAdamW cannot be applied to given types")
          .contains("reason: actual and formal argument lists differ in length");
    }

    @Test
    void formatVersions_oldVersionInTrainState_isStale() {
      JavadocExample drifted = example("modules/src/main/java/org/fastllm/modules/checkpoint/TrainState.java",
          "{\"format_version\": 1, \"step\": 20}");

      assertThat(staleFormatVersions(List.of(drifted))).containsExactly("modules/src/main/java/org/fastllm/modules/"
          + "checkpoint/TrainState.java:100: shows format_version 1, but checkpoints are written as version "
          + Checkpoint.FORMAT_VERSION + " (Checkpoint.FORMAT_VERSION)");
    }

    @Test
    void compile_undeclaredVariable_isReported() {
      JavadocExample undeclared = example("dsl/src/main/java/org/fastllm/dsl/problem/SourceLocation.java",
          "new SourceLocation(file, 12, 5).toString()  // \"run.yaml:12:5\"");

      assertThat(compile(List.of(undeclared))).singleElement().asString()
          .startsWith("dsl/src/main/java/org/fastllm/dsl/problem/SourceLocation.java:100: cannot find symbol")
          .contains("symbol:   variable file");
    }

    @Test
    void compile_givenVariablesAndBareLastExpression_compile() {
      JavadocExample fine = example("dsl/src/main/java/org/fastllm/dsl/problem/SourceLocation.java",
          "", "// given String file", "new SourceLocation(file, 12, 5).toString()  // \"run.yaml:12:5\"", "");

      assertThat(compile(List.of(fine))).isEmpty();
    }
  }

  /** Which blocks are compiled as Java. */
  @Nested
  class Classification {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
        LanguageModel model = StackBuilder.installed().build(config);  | true
        DtRank.AUTO.resolve(1024)  // 64                               | true
        @Block(kind = "transformer")                                   | true
        public final class MyPlugin extends BlockPlugin {              | true
        javax.tools.ToolProvider.getSystemJavaCompiler()               | true
        '// given Tensor x'                                            | true
        model:                                                         | false
        bob: {kind: transformer, num_heads: 16}                        | false
        dt_rank: auto      scan_segments: 4                            | false
        model.blocks.finn.kernel_size: must be odd, got 4              | false
        '{"format_version": 2, "step": 20}'                            | false
        [##########----------] step 100/200                            | false
        java -jar fastllm-cli.jar describe model.yaml                  | false
        java -Dfastllm.sumLink=false -jar fastllm-cli.jar train        | false
        mvn -B verify                                                  | false
        bin/fastllm train run.yaml                                     | false
        $ fastllm-cli train run.yaml                                   | false
        '#include "bf16.cuh"'                                          | false
        __global__ void scan(float* y) {                               | false
        """)
    void isJava_byFirstLine(String firstLine, boolean java) {
      assertThat(new JavadocExample(Path.of("A.java"), 1, "<pre>", List.of("", firstLine, "")).isJava())
          .isEqualTo(java);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
        <pre>                     | true
        '<pre class="java">'      | true
        '<pre class="yaml">'      | false
        '<pre class="text">'      | false
        '<pre class="outline">'   | false
        """)
    void isJava_byPreClass(String preTag, boolean java) {
      assertThat(new JavadocExample(Path.of("A.java"), 1, preTag, List.of("Tokens.of(new int[] {1})")).isJava())
          .isEqualTo(java);
    }

    @Test
    void isDeclaration_typeOrStatements() {
      assertThat(new JavadocExample(Path.of("A.java"), 1, "<pre>", List.of("", "@Block(kind = \"x\")",
          "public record X() {}", "")).isDeclaration()).isTrue();
      assertThat(new JavadocExample(Path.of("A.java"), 1, "<pre>", List.of("", "// given Tensor x",
          "final class Local {}", "")).isDeclaration()).isTrue();
      assertThat(new JavadocExample(Path.of("A.java"), 1, "<pre>", List.of("Tensor y = f(x);")).isDeclaration())
          .isFalse();
    }
  }

  /** How blocks are found in a source file. */
  @Nested
  class Extraction {
    @TempDir
    Path root;

    @Test
    void in_oneLineAndMultiLineBlocks_keepsTheirLinesAsJavadocRendersThem() throws IOException {
      Files.createDirectories(root.resolve("m/src/main/java/p"));
      Files.writeString(root.resolve("m/src/main/java/p/A.java"), """
          package p;

          /**
           * A thing.
           *
           * <pre>{@code A.of(1)  // one}</pre>
           *
           * <pre class="yaml">{@code
           * a:
           *   b: 1
           * }</pre>
           */
          public final class A {
            /** Not an example: {@code A.of(2)}. <pre>plain</pre> */
            void f() {}
            // <pre>{@code not Javadoc}</pre>
          }
          """);

      List<JavadocExample> blocks = JavadocExample.in(root, Path.of("m/src/main/java/p/A.java"));

      assertThat(blocks).hasSize(2);
      assertThat(blocks.get(0)).isEqualTo(new JavadocExample(Path.of("m/src/main/java/p/A.java"), 6, "<pre>",
          List.of("A.of(1)  // one")));
      assertThat(blocks.get(1).line()).isEqualTo(8);
      assertThat(blocks.get(1).preTag()).isEqualTo("<pre class=\"yaml\">");
      assertThat(blocks.get(1).lines()).containsExactly("", "a:", "  b: 1", "");
      assertThat(blocks.get(1).where(2)).isEqualTo("m/src/main/java/p/A.java:10");
      assertThat(JavadocExample.sourceFiles(root)).containsExactly(Path.of("m/src/main/java/p/A.java"));
    }

    @Test
    void sourceFiles_skipBuildOutputAndTests() throws IOException {
      for (String file : List.of("m/src/main/java/p/A.java", "m/src/test/java/p/ATest.java",
          "m/target/generated-sources/src/main/java/p/G.java")) {
        Files.createDirectories(root.resolve(file).getParent());
        Files.writeString(root.resolve(file), "package p;\n");
      }

      assertThat(JavadocExample.sourceFiles(root)).containsExactly(Path.of("m/src/main/java/p/A.java"));
    }
  }

  /** What the compiler reports, beyond the drifts. */
  @Nested
  class Compiling {
    @TempDir
    Path root;

    @Test
    void compile_syntaxErrorInOneExample_stillChecksTheOthers() {
      JavadocExample broken = example("dsl/src/main/java/org/fastllm/dsl/problem/SourceLocation.java",
          "new SourceLocation(\"a\", 1, 2).toString(;");
      JavadocExample wrongType = example("modules/src/main/java/org/fastllm/modules/stack/LanguageModel.java",
          "", "// given LanguageModel model", "String count = model.parameterCount();", "");

      assertThat(compile(List.of(broken, wrongType))).anySatisfy(p -> assertThat(p).startsWith(
          "dsl/src/main/java/org/fastllm/dsl/problem/SourceLocation.java:100: illegal start of expression"))
          .anySatisfy(p -> assertThat(p).startsWith("modules/src/main/java/org/fastllm/modules/stack/"
              + "LanguageModel.java:102: incompatible types: long cannot be converted to java.lang.String")
              .doesNotContain("SourceLocation"));
    }

    @Test
    void compile_packageOfAModuleDocsDoesNotDependOn_saysToAddIt() throws IOException {
      Path file = Path.of("bench/src/main/java/org/fastllm/nowhere/Runner.java");
      Files.createDirectories(root.resolve(file).getParent());
      Files.writeString(root.resolve(file), "package org.fastllm.nowhere;\n\n/** <pre>{@code Runner.main()}</pre> */\n"
          + "public final class Runner {}\n");

      assertThat(ExampleCompiler.compile(root, JavadocExample.in(root, file), System.getProperty("java.class.path"))
          .stream().map(ExampleCompiler.Problem::render)).containsExactly("bench/src/main/java/org/fastllm/nowhere/"
          + "Runner.java:3: package org.fastllm.nowhere is not on the docs test classpath; add its module to "
          + "docs/pom.xml as a test dependency\n    > Runner.main()");
    }
  }
}
