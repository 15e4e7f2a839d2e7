package org.fastllm.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The run {@code train} makes with no arguments: its config and its corpus, resources of the jar. */
final class BuiltInRun {
  static final String CONFIG = "train/default-run.yaml";
  static final String CORPUS = "train/corpus.txt";

  private BuiltInRun() {}

  static String config() {
    return resource(CONFIG);
  }

  static String corpus() {
    return resource(CORPUS);
  }

  private static String resource(String name) {
    try (InputStream in = BuiltInRun.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("resource " + name + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
