package org.fastllm.dsl;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Rules inside {@code dsl}. Its module boundaries are held where they can fail: Maven refuses an import of the
 * modules built on dsl (they depend on it, and a cycle does not build), and the enforcer rule {@code no-native-code}
 * in the parent pom refuses native code in its dependency tree (no class can import what is not on its classpath).
 */
@AnalyzeClasses(packages = "org.fastllm.dsl", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  @ArchTest
  static final ArchRule packages_areFreeOfCycles = slices().matching("org.fastllm.dsl.(*)..").should().beFreeOfCycles()
      .because("a package that needs another must not be needed by it: each can then be read, tested and moved"
          + " on its own (STYLE 2)");

  @ArchTest
  static final ArchRule classNames_sayWhatTheyHold = noClasses()
      .should().haveSimpleNameEndingWith("Utils")
      .orShould().haveSimpleNameEndingWith("Helper")
      .orShould().haveSimpleNameEndingWith("Manager")
      .because("a name says what a thing is in the domain (STYLE 6, 7)");
}
