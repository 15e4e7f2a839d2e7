package org.fastllm.dsl.yaml;

/**
 * Bounds on what a config document may contain, so that hostile input fails fast instead of exhausting memory.
 *
 * <pre>{@code ReadLimits.DEFAULT.withMaxBytes(1 << 20)}</pre>
 *
 * @param maxBytes largest document accepted, in bytes
 * @param maxDepth deepest nesting of mappings and lists
 * @param maxAliases how many {@code *alias} references one document may use
 * @param maxNodes how many values (after alias expansion) one document may hold
 */
public record ReadLimits(long maxBytes, int maxDepth, int maxAliases, int maxNodes) {

  /** 4 MiB, depth 64, 100 aliases, one million values: far above any real model config. */
  public static final ReadLimits DEFAULT = new ReadLimits(4L << 20, 64, 100, 1_000_000);

  public ReadLimits withMaxBytes(long bytes) {
    return new ReadLimits(bytes, maxDepth, maxAliases, maxNodes);
  }

  public ReadLimits withMaxDepth(int depth) {
    return new ReadLimits(maxBytes, depth, maxAliases, maxNodes);
  }

  public ReadLimits withMaxAliases(int aliases) {
    return new ReadLimits(maxBytes, maxDepth, aliases, maxNodes);
  }

  public ReadLimits withMaxNodes(int nodes) {
    return new ReadLimits(maxBytes, maxDepth, maxAliases, nodes);
  }
}
