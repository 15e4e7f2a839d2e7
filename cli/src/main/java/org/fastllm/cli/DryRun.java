package org.fastllm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.count.ModelCount;
import org.fastllm.modules.train.DeviceMemory;

/**
 * What {@code train --dry-run} prints once the config, the checkpoint and the memory check passed: the memory
 * estimate (as {@code describe} shows it, for one process) and what the run would do. It reads the run folder but
 * creates, locks and writes nothing; the data files are not read (their first read tokenizes and caches them).
 *
 * <pre class="text">
 * dry run: nothing was allocated or written
 * training memory: about ... GiB (a rough estimate): parameters ... at batch 8 x sequence 128
 * device: cpu (training.device auto), 1 process
 * device memory: ... GiB free of ... GiB on cuda:0      (on a GPU only)
 * steps: 300 (from step 0), batch 8 x sequence 128
 * output folder: fastllm-run
 * </pre>
 */
final class DryRun {
  private DryRun() {}

  /**
   * Prints the plan; exit 2 with train's message where train would refuse the named output folder.
   *
   * @param named whether the file or the command line names {@code training.output_dir}
   */
  static int print(ModelCount count, ConfigDocument run, String device, int processes, long fromStep, boolean named,
      RunFolder.Reuse reuse, PrintWriter out, PrintWriter err) {
    Path folder = Path.of(run.training().outputDir());
    List<String> there = RunFolder.existingRun(folder);
    if (!there.isEmpty() && named && reuse == RunFolder.Reuse.REFUSE) {
      err.println("error: " + folder + ": already holds a run (" + String.join(", ", there) + ") — continue it with "
          + "--resume " + folder + ", replace it with --overwrite, or choose another training.output_dir");
      return Main.INVALID;
    }
    var training = run.training();
    out.println("dry run: nothing was allocated or written");
    out.println("training memory: " + MemoryEstimate.of(count, run, processes).render()
        + (processes > 1 ? " per process" : ""));
    out.println("device: " + device + " (training.device " + training.device().yamlName() + "), " + processes
        + (processes == 1 ? " process" : " processes"));
    freeOnCuda(device).ifPresent(out::println);
    out.println("steps: " + training.steps() + " (from step " + fromStep + "), batch " + training.batchSize()
        + " x sequence " + training.sequenceLength());
    out.println("output folder: " + folder + (there.isEmpty() ? ""
        : reuse == RunFolder.Reuse.RESUME ? " (continued)"
        : reuse == RunFolder.Reuse.OVERWRITE ? " (its run's files would be deleted first: --overwrite)"
        : " (it holds a run: train would write to the next free " + folder.getFileName() + "-N)"));
    out.flush();
    return Main.OK;
  }

  /** On a CUDA device, its free and total memory as the driver reports them: what the estimate was checked against. */
  static Optional<String> freeOnCuda(String device) {
    if (!device.startsWith("cuda")) {
      return Optional.empty();
    }
    int index = device.contains(":") ? Integer.parseInt(device.substring(device.indexOf(':') + 1)) : 0;
    return DeviceMemory.cuda(index).map(m -> "device memory: " + MemoryEstimate.gib(m.free()) + " free of "
        + MemoryEstimate.gib(m.total()) + " on " + device);
  }
}
