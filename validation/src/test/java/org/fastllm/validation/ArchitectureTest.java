package org.fastllm.validation;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Rules inside {@code validation}. Its module boundaries are held where they can fail: old formats arrive through
 * the {@code FormatAdapter} SPI because Maven refuses an import of legacy-compat or cli (both depend on validation,
 * and a cycle does not build), and the enforcer rule {@code no-native-code} in the parent pom refuses native code in
 * its dependency tree, so the whole pipeline up to counts runs without it.
 */
@AnalyzeClasses(packages = "org.fastllm.validation", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

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
