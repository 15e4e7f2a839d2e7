package org.fastllm.modules;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The package rules of {@code modules}, as {@code docs/architecture.md} states them: features are layered from the
 * kernel runtime up to the trainer, each layer may use only those below it, and the packages form no cycle.
 */
@AnalyzeClasses(packages = "org.fastllm.modules", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
  private static final String ROOT = "org.fastllm.modules.";

  @ArchTest
  static final ArchRule packages_areLayeredFromKernelsToTheTrainer = layeredArchitecture()
      .consideringOnlyDependenciesInLayers()
      .layer("train").definedBy(ROOT + "train..")
      .layer("checkpoint").definedBy(ROOT + "checkpoint..")
      .layer("optim").definedBy(ROOT + "optim..")
      .layer("data").definedBy(ROOT + "data..")
      .layer("distributed").definedBy(ROOT + "distributed..")
      .layer("stack").definedBy(ROOT + "stack..")
      .layer("plugin").definedBy(ROOT + "plugin..")
      .layer("features").definedBy(ROOT + "attention..", ROOT + "loss..", ROOT + "norm..", ROOT + "ssm..",
          ROOT + "mlp..", ROOT + "lora..")
      .layer("layer").definedBy(ROOT + "layer..")
      .layer("kernel").definedBy(ROOT + "kernel..")
      .layer("autograd").definedBy(ROOT + "autograd..")
      .layer("cuda").definedBy(ROOT + "cuda..")
      .layer("experiment").definedBy(ROOT + "experiment..")
      .whereLayer("train").mayNotBeAccessedByAnyLayer()
      .whereLayer("checkpoint").mayOnlyBeAccessedByLayers("train")
      .whereLayer("optim").mayOnlyBeAccessedByLayers("checkpoint", "train")
      .whereLayer("data").mayOnlyBeAccessedByLayers("checkpoint", "train")
      .whereLayer("distributed").mayOnlyBeAccessedByLayers("data", "optim", "train")
      .whereLayer("stack").mayOnlyBeAccessedByLayers("optim", "checkpoint", "train")
      .whereLayer("plugin").mayOnlyBeAccessedByLayers("stack")
      .whereLayer("features").mayOnlyBeAccessedByLayers("plugin", "stack")
      .whereLayer("layer").mayOnlyBeAccessedByLayers("features", "plugin", "stack", "optim", "train")
      .whereLayer("kernel").mayOnlyBeAccessedByLayers("layer", "features", "stack", "optim")
      .whereLayer("autograd").mayOnlyBeAccessedByLayers("kernel", "layer", "stack")
      .whereLayer("cuda").mayOnlyBeAccessedByLayers("features", "stack", "optim", "train")
      .whereLayer("experiment").mayOnlyBeAccessedByLayers("autograd", "optim", "features", "stack", "train")
      .because("a feature is built from the ones below it; the trainer is the top (docs/architecture.md)");

  @ArchTest
  static final ArchRule features_doNotImportTheTrainer = noClasses()
      .that().resideOutsideOfPackage(ROOT + "train..")
      .should().dependOnClassesThat().resideInAPackage(ROOT + "train..")
      .because("the loop, one step, evaluation and the metrics log use the features, never the reverse");

  @ArchTest
  static final ArchRule onlyCuda_touchesTheCudaBindings = noClasses()
      .that().resideOutsideOfPackage(ROOT + "cuda..")
      .should().dependOnClassesThat().resideInAPackage("org.bytedeco.cuda..")
      .because("NVRTC and the driver are reached through RuntimeKernels, which falls back where CUDA is absent");

  @ArchTest
  static final ArchRule packages_areFreeOfCycles = slices().matching(ROOT + "(*)..").should().beFreeOfCycles();

  @ArchTest
  static final ArchRule systemProperties_areReadOnlyByExperimentFlags = noClasses()
      .that().resideOutsideOfPackage(ROOT + "experiment..")
      // the tokenizer binding is configured through its own property (RUST_FLAVOR), which no fastllm choice names
      .and().doNotHaveFullyQualifiedName(ROOT + "data.HuggingFaceTokenizer")
      .should().callMethod(System.class, "getProperty", String.class)
      .orShould().callMethod(System.class, "getProperty", String.class, String.class)
      .orShould().callMethod(Boolean.class, "getBoolean", String.class)
      .orShould().callMethod(Integer.class, "getInteger", String.class)
      .because("a choice made per run is a config key (training.kernels); A/B-only switches are ExperimentFlags");

  @ArchTest
  static final ArchRule classNames_sayWhatTheyHold = noClasses()
      .should().haveSimpleNameEndingWith("Utils")
      .orShould().haveSimpleNameEndingWith("Helper")
      .orShould().haveSimpleNameEndingWith("Manager")
      .because("a name says what a thing is in the domain (STYLE 6, 7)");
}
