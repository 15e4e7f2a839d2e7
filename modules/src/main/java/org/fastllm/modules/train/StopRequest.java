package org.fastllm.modules.train;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Asks a running {@link Trainer} to stop after the optimizer step in progress: it saves a checkpoint of that step
 * (on rank 0) and returns a {@link Trainer.Result} whose {@code stopped()} is true.
 *
 * <pre>{@code
 * // given Trainer trainer
 * StopRequest stop = new StopRequest();
 * Runtime.getRuntime().addShutdownHook(new Thread(stop::request));
 * Trainer.Result result = trainer.run(report -> { }, stop);
 * }</pre>
 *
 * <p><b>Any thread may request; the trainer looks at the request only between steps</b>, so a step is never cut in
 * half. In a data-parallel run all processes stop after the same step once any one of them was asked.
 */
public final class StopRequest {
  private final AtomicBoolean requested = new AtomicBoolean();

  /** Asks the run to stop after its current step; asking again changes nothing. */
  public void request() {
    requested.set(true);
  }

  public boolean requested() {
    return requested.get();
  }
}
