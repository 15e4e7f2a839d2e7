package org.fastllm.modules.distributed;

import java.util.Map;

/**
 * This process's place in a data-parallel run, read from the variables torchrun and SLURM users set: {@code RANK},
 * {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code MASTER_ADDR} and {@code MASTER_PORT}.
 *
 * <pre>{@code DistributedLaunch launch = DistributedLaunch.fromEnvironment(System.getenv());  // single() without them}</pre>
 *
 * <p><b>Without {@code WORLD_SIZE}, or with {@code WORLD_SIZE=1}, the run is one process and needs nothing else.</b>
 *
 * @param rank this process, 0 to {@code worldSize - 1}; rank 0 alone writes metrics, checkpoints and logs
 * @param localRank this process on its host: it picks the GPU ({@code cuda:localRank})
 * @param masterAddress where rank 0 serves the rendezvous store
 */
public record DistributedLaunch(int rank, int worldSize, int localRank, String masterAddress, int masterPort) {
  public static final String RANK = "RANK";
  public static final String WORLD_SIZE = "WORLD_SIZE";
  public static final String LOCAL_RANK = "LOCAL_RANK";
  public static final String MASTER_ADDR = "MASTER_ADDR";
  public static final String MASTER_PORT = "MASTER_PORT";

  public DistributedLaunch {
    if (worldSize < 1) {
      throw new IllegalArgumentException(WORLD_SIZE + " is " + worldSize + "; it must be at least 1");
    }
    if (rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException(RANK + " is " + rank + "; with " + WORLD_SIZE + " " + worldSize
          + " it must be 0 to " + (worldSize - 1));
    }
    if (localRank < 0) {
      throw new IllegalArgumentException(LOCAL_RANK + " is " + localRank + "; it must be 0 or more");
    }
  }

  /** One process, no rendezvous. */
  public static DistributedLaunch single() {
    return new DistributedLaunch(0, 1, 0, null, 0);
  }

  /** Reads the launch variables from {@code env}; a missing or malformed one that a run of several needs is named. */
  public static DistributedLaunch fromEnvironment(Map<String, String> env) {
    String world = env.get(WORLD_SIZE);
    if (world == null || integer(env, WORLD_SIZE) == 1) {
      return single();
    }
    int size = integer(env, WORLD_SIZE);
    int rank = integer(env, RANK);
    int local = env.containsKey(LOCAL_RANK) ? integer(env, LOCAL_RANK) : 0;
    String address = env.get(MASTER_ADDR);
    if (address == null || address.isBlank()) {
      throw new IllegalArgumentException(MASTER_ADDR + " is not set; a run of " + WORLD_SIZE + " " + size
          + " needs the host of rank 0 (e.g. MASTER_ADDR=127.0.0.1)");
    }
    int port = integer(env, MASTER_PORT);
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(MASTER_PORT + " is " + port + "; it must be a TCP port, 1 to 65535");
    }
    return new DistributedLaunch(rank, size, local, address, port);
  }

  private static int integer(Map<String, String> env, String name) {
    String value = env.get(name);
    if (value == null) {
      throw new IllegalArgumentException(name + " is not set; a run of several processes needs " + RANK + ", "
          + WORLD_SIZE + ", " + MASTER_ADDR + " and " + MASTER_PORT);
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " is '" + value + "'; it must be a whole number", e);
    }
  }

  public boolean distributed() {
    return worldSize > 1;
  }

  /** Whether this process writes the run's files: rank 0 only. */
  public boolean writesFiles() {
    return rank == 0;
  }
}
