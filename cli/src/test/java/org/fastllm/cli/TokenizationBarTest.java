package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class TokenizationBarTest {
  private final StringWriter text = new StringWriter();

  @Test
  void tokenized_notATerminal_printsALineAtEachTenthAndTheLast() {
    TokenizationBar bar = new TokenizationBar(new PrintWriter(text), false);

    for (long done = 1_000_000; done <= 100_000_000; done += 1_000_000) {
      bar.tokenized(done, 100_000_000);
    }

    assertThat(text.toString().lines()).hasSize(10).allMatch(l -> l.matches(
        "tokenizing [0-9.,]+/100\\.0 MB  [0-9.,]+ MB/s  ETA [0-9]+:[0-9]{2}"));
    assertThat(text.toString().lines()).last().asString().startsWith("tokenizing 100.0/100.0 MB ").endsWith("ETA 0:00");
  }

  @Test
  void tokenized_onATerminal_redrawsOneLineAndEndsItWhenDone() {
    TokenizationBar bar = new TokenizationBar(new PrintWriter(text), true);

    bar.tokenized(50, 100);
    bar.tokenized(100, 100);

    assertThat(text.toString()).startsWith("\r[##########----------] tokenizing 0.0/0.0 MB")
        .contains("\r[####################] tokenizing 0.0/0.0 MB").endsWith(System.lineSeparator());
    assertThat(text.toString().indexOf('\n')).as("one line break, at the end").isEqualTo(text.toString().length() - 1);
  }
}
