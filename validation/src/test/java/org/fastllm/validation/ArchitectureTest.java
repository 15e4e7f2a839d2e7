package org.fastllm.validation;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Module boundaries of {@code validation}: the whole pipeline up to counts runs without native code, and old
 * formats arrive through the {@code FormatAdapter} SPI rather than an import of legacy-compat.
 */
@AnalyzeClasses(packages = "org.fastllm.validation", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  @ArchTest
  static final ArchRule validation_neverTouchesNativeCodeOrTensors = noClasses()
      .that().resideInAPackage("org.fastllm.validation..")
      .should().dependOnClassesThat().resideInAnyPackage("org.bytedeco..", "org.fastllm.modules..")
      .because("a config is fully validated before any tensor exists (STYLE 5, SPEC 2)");

  @ArchTest
  static final ArchRule validation_reachesLegacyAndCliOnlyThroughSpis = noClasses()
      .that().resideInAPackage("org.fastllm.validation..")
      .should().dependOnClassesThat().resideInAnyPackage("org.fastllm.legacy..", "org.fastllm.cli..")
      .because("format adapters are found by ServiceLoader, and cli is built on validation, not under it");

  @ArchTest
  static final ArchRule packages_areFreeOfCycles = slices().matching("org.fastllm.validation.(*)..").should().beFreeOfCycles()
      .because("a package that needs another must not be needed by it: each can then be read, tested and moved"
          + " on its own (STYLE 2)");

  @ArchTest
  static final ArchRule classNames_sayWhatTheyHold = noClasses()
      .should().haveSimpleNameEndingWith("Utils")
      .orShould().haveSimpleNameEndingWith("Helper")
      .orShould().haveSimpleNameEndingWith("Manager")
      .because("a name says what a thing is in the domain (STYLE 6, 7)");
}
