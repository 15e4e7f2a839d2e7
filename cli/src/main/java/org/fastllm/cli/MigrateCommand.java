package org.fastllm.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import org.fastllm.dsl.bind.ConfigMapper;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code migrate OLD [-o NEW]}: writes an old-format config in the current format, every value written out so the
 * old format's defaults are kept.
 */
@Command(name = "migrate", mixinStandardHelpOptions = true,
    description = {"Write an old-format config in the current per-block format.",
        "Reads global transformer/ssm sections and hybrid_block_layout; the deprecation warnings say what",
        "moved where. Every value is written out, so the old format's defaults are kept."})
final class MigrateCommand implements Callable<Integer> {
  @Parameters(paramLabel = "OLD", description = "The config to migrate.")
  Path file;

  @Option(names = {"-o", "--output"}, paramLabel = "NEW", description = "Where to write (default: standard output).")
  Path output;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ConfigLoader loader = ConfigLoader.standard();
    LoadedConfig config = ConfigFiles.load(file, err);
    if (!config.legacy()) {
      err.println(file + " is already in the current format; writing it with every default spelled out");
    }
    String yaml = "# migrated from " + file.getFileName() + " by fastllm-cli migrate\n"
        + ConfigMapper.yaml(loader.kinds()).writeValueAsString(config.resolved());
    if (output == null) {
      out.print(yaml);
      out.flush();
    } else {
      Path temp = Files.createTempFile(output.toAbsolutePath().getParent(), ".migrate", ".yaml");
      Files.writeString(temp, yaml, StandardCharsets.UTF_8);
      Files.move(temp, output, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      out.println("wrote " + output + " (" + config.plan().layers().size() + " layers, "
          + Numbers.grouped(config.count().total()) + " parameters, as before)");
    }
    return Main.OK;
  }
}
