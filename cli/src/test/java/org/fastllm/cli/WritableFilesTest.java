package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class WritableFilesTest {
  static Stream<Arguments> failures() {
    return Stream.of(
        Arguments.of(new AccessDeniedException("out/metrics.jsonl"), "out/metrics.jsonl: permission denied"),
        Arguments.of(new FileAlreadyExistsException("afile"), "afile: is a file, where a folder should be"),
        Arguments.of(new FileSystemException("out/loss.png", null, "Is a directory"),
            "out/loss.png: is a folder, where a file should be"),
        Arguments.of(new FileSystemException("out/checkpoints/x", null, "Not a directory"),
            "out/checkpoints/x: a file is in the way, where a folder should be"),
        Arguments.of(new FileSystemException("out/checkpoints/.tmp", null, "No space left on device"),
            "out/checkpoints/.tmp: no space left on the device"),
        Arguments.of(new IOException(), "out: IOException"),
        Arguments.of(new IOException("checkpoint step-000010: disk full"), "checkpoint step-000010: disk full"));
  }

  @ParameterizedTest
  @MethodSource("failures")
  void why_writeFailure_saysWhyWithThePath(IOException failure, String message) {
    assertThat(WritableFiles.why(failure, Path.of("out"))).isEqualTo(message);
  }
}
