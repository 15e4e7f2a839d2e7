#!/usr/bin/env bash
# Packs fastllm for a GPU host that has Python's torch but no Java: the class jars (the benchmark runners of the
# modules' test classes included), a jlink runtime and the GPU build of the PyTorch JNI library, in .carry/.
# Usage: bench/gpu/bundle.sh [path/to/make-bundle.sh]
set -euo pipefail
cd "$(dirname "$0")/../.."
maker=${1:-../shared/gpu/make-bundle.sh}
rm -rf .carry/libs && mkdir -p .carry/libs
mvn -q -B -DskipTests package dependency:copy-dependencies -pl cli -am \
  -DincludeScope=runtime -DoutputDirectory="$PWD/.carry/libs"
mvn -q -B -DskipTests test-compile dependency:copy-dependencies -pl modules \
  -DincludeScope=test -DoutputDirectory="$PWD/.carry/libs"
jar cf .carry/libs/fastllm-modules-bench.jar -C modules/target/test-classes .
rm -f .carry/libs/fastllm-*-0.1.0-SNAPSHOT.jar.original
"$maker" .carry/bundle.tar.xz .carry/libs cli/target/fastllm-cli-0.1.0-SNAPSHOT.jar
cp bench/gpu/*.py bench/gpu/*.sh .carry/ 2>/dev/null || true
rm -rf .carry/libs
ls -la .carry
