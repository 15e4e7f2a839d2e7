package org.fastllm.docs;

import com.sun.source.util.JavacTask;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.StandardLocation;
import javax.tools.ToolProvider;

/**
 * Compiles Javadoc examples, each as the body of a method of a class generated next to the documented one: same
 * package, same imports, plus every package of the project and {@code java.util}, {@code java.util.function},
 * {@code java.io} and {@code java.nio.file} on demand (a reader does not expect an example to list its imports),
 * with the {@code // given} variables as the method's parameters. Nothing is run and no class is loaded: javac reads
 * class files, so an example that touches libtorch is checked without it.
 *
 * <pre>{@code
 * // given Path root, List<JavadocExample> examples
 * List<ExampleCompiler.Problem> problems = ExampleCompiler.compile(root, examples, System.getProperty("java.class.path"));
 * }</pre>
 *
 * <p>What {@code LanguageModel}'s example at line 24 becomes (one that declares a type, {@code public final class
 * ...}, becomes a member of the generated class instead, with no method around it):
 *
 * <pre class="text">{@code
 * package org.fastllm.modules.stack;
 * import java.util.List;                       // every import of LanguageModel.java, then
 * import org.fastllm.dsl.config.*;             // every project package, java.util.*, ...
 * @SuppressWarnings("all") final class LanguageModel_Example24 {
 * void example(ModelConfig modelConfig, Tensor tokens, Tensor targets) throws Throwable {
 * <the example's lines, one for one>
 * ;}}
 * }</pre>
 */
final class ExampleCompiler {
  private static final Pattern PACKAGE = Pattern.compile("(?m)^package\\s+([\\w.]+)\\s*;");
  /** What a reader takes for granted besides the project's own types. */
  private static final List<String> EVERYDAY_PACKAGES = List.of("java.util", "java.util.function", "java.io",
      "java.nio.file");
  private static final Pattern IMPORT = Pattern.compile("(?m)^import\\s+(static\\s+)?[\\w.]+(\\.\\*)?\\s*;");

  /** What does not compile in one example: javac's message at a line of the block (0 is its first). */
  record Problem(JavadocExample example, int lineInBlock, String message) {
    /** {@code file:line: message}, then the example's line as written. */
    String render() {
      List<String> lines = example.lines();
      String source = lines.get(Math.min(lineInBlock, lines.size() - 1)).strip();
      return example.where(lineInBlock) + ": " + message.replace("\n", "\n    ") + "\n    > " + source;
    }
  }

  private ExampleCompiler() {}

  /** Compiles the Java examples among {@code examples} in one javac run; the problems of all of them. */
  static List<Problem> compile(Path root, List<JavadocExample> examples, String classPath) {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    List<Problem> problems = new ArrayList<>();
    try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT, null)) {
      files.setLocationFromPaths(StandardLocation.CLASS_PATH,
          Stream.of(classPath.split(File.pathSeparator)).filter(p -> !p.isEmpty()).map(Path::of).toList());
      List<String> everyday = new ArrayList<>(EVERYDAY_PACKAGES);
      for (String projectPackage : projectPackages(root)) {
        if (hasClasses(files, projectPackage)) {
          everyday.add(projectPackage);
        }
      }
      List<Unit> units = new ArrayList<>();
      for (JavadocExample example : examples) {
        Unit unit = Unit.of(root, example, everyday);
        if (!hasClasses(files, unit.packageName)) {
          problems.add(new Problem(example, 0, "package " + unit.packageName + " is not on the docs test classpath;"
              + " add its module to docs/pom.xml as a test dependency"));
        } else {
          units.add(unit);
        }
      }
      // Keep attributing every example after the first error, so that one run reports them all.
      List<String> options = List.of("-proc:none", "-Xlint:none", "-Xmaxerrs", "100000",
          "-XDshould-stop.ifError=FLOW", "--release", "17");
      if (!units.isEmpty()) {
        // analyze(): attribute and check flow, but write no class files.
        ((JavacTask) javac.getTask(null, files, diagnostics, options, null, units)).analyze();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
      if (d.getKind() == Diagnostic.Kind.ERROR && d.getSource() instanceof Unit unit) {
        problems.add(new Problem(unit.example, unit.lineInBlock(d.getLineNumber()), d.getMessage(Locale.ROOT)));
      }
    }
    return problems;
  }

  /** The packages of the repository's {@code src/main/java} files. */
  static Set<String> projectPackages(Path root) {
    Set<String> packages = new TreeSet<>();
    for (Path file : JavadocExample.sourceFiles(root)) {
      Path folder = file.getParent();
      Path sources = folder;
      while (sources != null && !sources.endsWith(Path.of("src", "main", "java"))) {
        sources = sources.getParent();
      }
      if (sources != null && !sources.equals(folder)) {
        packages.add(sources.relativize(folder).toString().replace(File.separatorChar, '.'));
      }
    }
    return packages;
  }

  private static boolean hasClasses(StandardJavaFileManager files, String packageName) throws IOException {
    return files.list(StandardLocation.CLASS_PATH, packageName, Set.of(JavaFileObject.Kind.CLASS), false)
        .iterator().hasNext();
  }

  /** The generated source of one example; its header takes {@code headerLines} lines before the example's first. */
  private static final class Unit extends SimpleJavaFileObject {
    final JavadocExample example;
    final String packageName;
    final String source;
    final int headerLines;
    final int givenLine;

    private Unit(JavadocExample example, String packageName, String className, String header, String footer) {
      super(URI.create("string:///" + packageName.replace('.', '/') + "/" + className + Kind.SOURCE.extension),
          Kind.SOURCE);
      this.example = example;
      this.packageName = packageName;
      this.headerLines = (int) header.chars().filter(c -> c == '\n').count();
      this.source = header + String.join("\n", example.lines()) + footer;
      List<String> lines = example.lines();
      int given = 0;
      for (int i = 0; i < lines.size(); i++) {
        if (JavadocExample.isGiven(lines.get(i))) {
          given = i;
          break;
        }
      }
      this.givenLine = given;
    }

    static Unit of(Path root, JavadocExample example, List<String> everyday) {
      String documented;
      try {
        documented = Files.readString(root.resolve(example.file()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Matcher pkg = PACKAGE.matcher(documented);
      String packageName = pkg.find() ? pkg.group(1) : "";
      String simpleName = example.file().getFileName().toString().replace(".java", "").replace('-', '_');
      String className = simpleName + "_Example" + example.line();
      StringBuilder header = new StringBuilder();
      if (!packageName.isEmpty()) {
        header.append("package ").append(packageName).append(";\n");
      }
      Matcher imports = IMPORT.matcher(documented);
      while (imports.find()) {
        header.append(imports.group()).append('\n');
      }
      for (String onDemand : everyday) {
        header.append("import ").append(onDemand).append(".*;\n");
      }
      header.append("@SuppressWarnings(\"all\") final class ").append(className).append(" {\n");
      if (example.isDeclaration()) {
        return new Unit(example, packageName, className, header.toString(), "\n}\n");
      }
      header.append("void example(").append(example.given()).append(") throws Throwable {\n");
      // The last statement may be a bare expression ("DtRank.AUTO.resolve(1024)  // 64"): the line below ends it.
      return new Unit(example, packageName, className, header.toString(), "\n;}}\n");
    }

    /** The block's line of a line of this source: the method's header is the given line, the footer the last. */
    int lineInBlock(long sourceLine) {
      int line = (int) sourceLine - 1 - headerLines;
      if (line < 0) {
        return givenLine;
      }
      return Math.min(line, example.lines().size() - 1);
    }

    @Override
    public CharSequence getCharContent(boolean ignoreEncodingErrors) {
      return source;
    }
  }
}
