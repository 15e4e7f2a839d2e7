#!/usr/bin/env bash
# Builds the bench module and the modules it depends on in one reactor run, so the fastllm modules resolve to their
# target/classes and target/test-classes (never to a stale copy in ~/.m2), and prints the runners' classpath.
# Sourced by the bench scripts; SKIP_BUILD=1 reuses the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
CP_FILE=bench/target/classpath.txt
if [[ "${SKIP_BUILD:-0}" != 1 || ! -s "$CP_FILE" ]]; then
  # test-compile, not compile: the test jars the runners use (modules' testing utilities, property-tests'
  # generators) resolve to those modules' target/test-classes; each module of the run writes CP_FILE, bench last
  mvn -B -q test-compile dependency:build-classpath -pl bench -am -DskipTests \
    -DincludeScope=runtime -Dmdep.outputFile="$PWD/$CP_FILE" >&2
fi
echo "bench/target/classes:$(cat "$CP_FILE")"
