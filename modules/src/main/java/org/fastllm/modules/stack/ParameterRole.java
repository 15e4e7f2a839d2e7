package org.fastllm.modules.stack;

/** How the optimizer treats one parameter: decayed or not, and its block's learning-rate scale. */
record ParameterRole(boolean weightDecay, double lrScale) {
  static final ParameterRole DEFAULT = new ParameterRole(true, 1.0);
}
