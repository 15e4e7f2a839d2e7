package org.fastllm.legacy;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Package structure of {@code legacy-compat}: its packages depend on one another in one direction only. Every
 * package is a slice, {@code org.fastllm.legacy} itself included, so a package added below it cannot form a cycle
 * with it.
 */
@AnalyzeClasses(packages = "org.fastllm.legacy", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  @ArchTest
  static final ArchRule packages_areFreeOfCycles = slices().matching("org.fastllm.(**)").should().beFreeOfCycles()
      .because("a package that needs another must not be needed by it: each can then be read, tested and moved"
          + " on its own (STYLE 2)");
}
