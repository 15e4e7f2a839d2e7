#!/usr/bin/env bash
# CPU benchmark of the block kinds (forward+backward, ratios to attention) and a 1000-step native-memory check.
# Not a test: run by hand. Usage: bench/layers-cpu.sh [steps]
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -o -q test-compile -pl modules -am -DskipTests
mvn -B -o -q dependency:build-classpath -pl modules -Dmdep.outputFile=target/bench.classpath -Dmdep.includeScope=test
CP="modules/target/test-classes:modules/target/classes:$(cat modules/target/bench.classpath)"
OMP_WAIT_POLICY=PASSIVE exec java -cp "$CP" org.fastllm.modules.bench.LayerBench "${1:-1000}"
