package org.fastllm.dsl;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * Module boundaries of {@code dsl}: it reads and checks configs only, so it never reaches native code, the tensor
 * side, or the modules built on top of it.
 */
@AnalyzeClasses(packages = "org.fastllm.dsl", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {

  @ArchTest
  static final ArchRule dsl_neverTouchesNativeCodeOrTensors = noClasses()
      .that().resideInAPackage("org.fastllm.dsl..")
      .should().dependOnClassesThat().resideInAnyPackage("org.bytedeco..", "org.fastllm.modules..")
      .because("configs are read, validated and counted before any tensor exists (STYLE 2, SPEC 2)");

  @ArchTest
  static final ArchRule dsl_doesNotDependOnModulesBuiltOnIt = noClasses()
      .that().resideInAPackage("org.fastllm.dsl..")
      .should().dependOnClassesThat()
      .resideInAnyPackage("org.fastllm.validation..", "org.fastllm.legacy..", "org.fastllm.cli..")
      .because("validation, legacy-compat and cli depend on dsl; they plug in through SPIs, not imports");

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
