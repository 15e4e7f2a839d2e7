#!/usr/bin/env bash
# Builds the modules module and its dependencies in one reactor run, so the fastllm modules resolve to their
# target/classes (never to a stale copy in ~/.m2), and prints the test classpath. Sourced by the bench scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
CP_FILE=modules/target/bench-classpath.txt
if [[ "${SKIP_BUILD:-0}" != 1 || ! -s "$CP_FILE" ]]; then
  mvn -B -q test-compile dependency:build-classpath -pl modules -am -DskipTests \
    -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$CP_FILE" >&2
fi
echo "modules/target/test-classes:modules/target/classes:$(cat "$CP_FILE")"
