package org.fastllm.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * What {@code fastllm-cli --version} prints: the project's version and the commit it was built from, both written
 * into the classpath by the build ({@code version.properties} filtered, {@code commit.txt} from
 * {@code git rev-parse HEAD} when the build runs in a git checkout).
 *
 * <pre class="text">{@code
 * $ fastllm-cli --version
 * fastllm-cli 0.1.0-SNAPSHOT
 * commit 804571f2c8d1e0b7a6f5e4d3c2b1a0f9e8d7c6b5
 * }</pre>
 *
 * <p>A build outside a git checkout (a source archive) has no commit: it prints {@code commit unknown}.
 */
final class BuildVersion implements CommandLine.IVersionProvider {
  static final String UNKNOWN = "unknown";
  private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

  @Override
  public String[] getVersion() {
    Properties written = new Properties();
    String commit = null;
    try (InputStream version = BuildVersion.class.getResourceAsStream("version.properties");
        InputStream git = BuildVersion.class.getResourceAsStream("commit.txt")) {
      if (version != null) {
        written.load(version);
      }
      if (git != null) {
        commit = new String(git.readAllBytes(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the build's version resources", e);
    }
    return lines(written.getProperty("version"), commit);
  }

  /**
   * The two lines for a version and the text {@code git rev-parse HEAD} wrote (null when it did not run): anything
   * but one full commit id, such as git's "not a git repository", reads as {@value #UNKNOWN}.
   */
  static String[] lines(String version, String commitText) {
    String commit = commitText == null ? UNKNOWN : commitText.strip();
    return new String[] {
        "fastllm-cli " + (version == null || version.startsWith("${") ? UNKNOWN : version),
        "commit " + (COMMIT.matcher(commit).matches() ? commit : UNKNOWN)};
  }
}
