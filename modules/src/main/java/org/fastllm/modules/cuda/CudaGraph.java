package org.fastllm.modules.cuda;

import static org.bytedeco.cuda.global.cudart.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL;

import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.cuda.CUDAStream;
import org.bytedeco.pytorch.cuda.DeviceAssertionsDataVectorCUDAKernelLaunchInfoVectorPair;
import org.bytedeco.pytorch.cuda.MemPool;
import org.bytedeco.pytorch.cuda.StreamFilter;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * The kernels a piece of work launches on one GPU, recorded once and replayed at the cost of one launch: what
 * PyTorch's {@code torch.cuda.CUDAGraph} does, from the CUDA driver's stream capture and PyTorch's caching
 * allocator.
 *
 * <pre>{@code
 * // given Runnable step
 * try (CudaGraph graph = CudaGraph.capture(0, step)) {   // step's Java code runs once; nothing is computed yet
 *   graph.replay();   // computes what step would have, on PyTorch's current stream
 * }
 * }</pre>
 *
 * <p>{@code step} is tensor operations on device 0. While the work is recorded, PyTorch's current stream is a side
 * stream and every tensor it allocates comes from a memory pool of the graph's own, which replays read and write and
 * which nothing else is given until the graph is closed: a tensor made by the work (its result) keeps its memory,
 * and its values after each replay are that replay's. The work must not wait for the GPU (reading a value on the
 * host, say): the capture fails and says so. What it reads must stay where it is between replays, changed in place.
 */
public final class CudaGraph implements AutoCloseable {
  private final int device;
  private final Pointer poolId;
  private final DeviceAssertionsDataVectorCUDAKernelLaunchInfoVectorPair pool;
  private final StreamFilter filter;
  private CUgraph_st graph;
  private CUgraphExec_st exec;

  private CudaGraph(int device, Pointer poolId, StreamFilter filter) {
    this.device = device;
    this.poolId = poolId;
    this.pool = new DeviceAssertionsDataVectorCUDAKernelLaunchInfoVectorPair(poolId);
    this.filter = filter;
    filter.retainReference();   // the allocator may call it until close()
    PointerScope scope = PointerScope.getInnerScope();
    if (scope != null) {
      scope.detach(filter);
    }
  }

  /**
   * Records what {@code work} launches on device {@code device}.
   *
   * @throws IllegalStateException when the hand-written kernels' CUDA libraries are not here, or the capture
   *     failed (the reason, with what {@code work} threw); nothing was computed and the graph's memory is given back
   */
  public static CudaGraph capture(int device, Runnable work) {
    if (device < 0) {
      throw new IllegalArgumentException("a CUDA graph records on one device, by its index, not " + device);
    }
    String unavailable = RuntimeKernels.availability();
    if (unavailable != null) {
      throw new IllegalStateException("CUDA graphs need the CUDA driver's library: " + unavailable);
    }
    byte index = (byte) device;
    CUDAStream previous = torch_cuda.getCurrentCUDAStream(index);
    CUDAStream side = torch_cuda.getStreamFromPool(false, index);
    CUstream_st stream = side.stream();
    long streamAddress = stream.address();
    // the side stream starts after the work queued so far, and the allocator's pending frees are settled
    torch_cuda.device_synchronize();
    CudaGraph recorded = new CudaGraph(device, newPoolId(), new OnStream(streamAddress));
    RuntimeException thrown = null;
    int[] status = {cudart.CUDA_SUCCESS, cudart.CUDA_SUCCESS};
    torch_cuda.setCurrentCUDAStream(side);
    try {
      torch_cuda.beginAllocateToPool(index, recorded.pool, recorded.filter);
      try {
        CudaDriver.inContext(device, () -> status[0] = cudart.cuStreamBeginCapture(stream,
            CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
        if (status[0] == cudart.CUDA_SUCCESS) {
          try {
            work.run();
          } catch (RuntimeException e) {
            thrown = e;
          }
          CUgraph_st graph = new CUgraph_st();
          CudaDriver.inContext(device, () -> status[1] = cudart.cuStreamEndCapture(stream, graph));
          recorded.graph = status[1] == cudart.CUDA_SUCCESS && !graph.isNull() ? graph : null;
        }
      } finally {
        torch_cuda.endAllocateToPool(index, recorded.pool);
      }
    } finally {
      torch_cuda.setCurrentCUDAStream(previous);
    }
    if (thrown != null || recorded.graph == null) {
      recorded.close();
      String why = thrown != null ? thrown.getMessage()
          : "CUDA driver error " + (status[0] != cudart.CUDA_SUCCESS ? status[0] + " at the capture's start"
              : status[1] + " at its end");
      throw new IllegalStateException("the CUDA graph's capture failed: " + firstLine(why), thrown);
    }
    CUgraphExec_st exec = new CUgraphExec_st();
    CudaDriver.inContext(device, () -> CudaDriver.check(cudart.cuGraphInstantiate(exec, recorded.graph, 0),
        "cuGraphInstantiate"));
    recorded.exec = exec;
    return recorded;
  }

  /** Runs the recorded kernels again, on PyTorch's current stream of the device, after the work queued there. */
  public void replay() {
    if (exec == null) {
      throw new IllegalStateException("the graph is closed");
    }
    CUstream_st stream = CurrentStream.of(device);
    CudaDriver.inContext(device, () -> CudaDriver.check(cudart.cuGraphLaunch(exec, stream), "cuGraphLaunch"));
  }

  /** Frees the graph and gives its memory pool back to the allocator; its results are not read after. */
  @Override
  public void close() {
    CudaDriver.inContext(device, () -> {
      if (exec != null) {
        cudart.cuGraphExecDestroy(exec);
        exec = null;
      }
      if (graph != null) {
        cudart.cuGraphDestroy(graph);
        graph = null;
      }
    });
    torch_cuda.getAllocator().releasePool((byte) device, pool);
    Pointer.free(poolId);
    filter.releaseReference();
  }

  /**
   * A new graph pool's id, PyTorch's {@code MempoolId_t} (two 64-bit counts), in memory of its own. The presets give
   * that pair the Java class of another pair, whose destructor they would run on it: the handle they return is
   * copied, then kept from ever being freed (16 bytes per graph).
   */
  private static Pointer newPoolId() {
    DeviceAssertionsDataVectorCUDAKernelLaunchInfoVectorPair handle = MemPool.graph_pool_handle();
    handle.retainReference();   // a scope's detach releases one reference
    PointerScope scope = PointerScope.getInnerScope();
    if (scope != null) {
      scope.detach(handle);
    }
    handle.deallocate(false);   // and no collection frees it
    Pointer id = Pointer.malloc(2 * Long.BYTES);   // no deallocator: views of it own nothing; close() frees it
    Pointer.memcpy(id, handle, 2 * Long.BYTES);
    return id;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "no reason given";
    }
    int end = message.indexOf('\n');
    return end < 0 ? message : message.substring(0, end);
  }

  /** The allocator's test of which allocations go to the graph's pool: those on the capturing stream. */
  private static final class OnStream extends StreamFilter {
    private final long stream;

    OnStream(long stream) {
      this.stream = stream;
    }

    @Override
    public boolean call(Pointer candidate) {
      return candidate != null && candidate.address() == stream;
    }
  }
}
