#!/usr/bin/env bash
# Draws bench/results/gpu-train-h200.txt (bench/gpu/train.sh's comparison) as docs/images/training-speed.png.
# Usage: bench/training-chart.sh [results.txt] [out.png]
set -euo pipefail
cd "$(dirname "$0")/.."
cp=$(mktemp)
mvn -q -o dependency:build-classpath -pl cli -Dmdep.outputFile="$cp" >/dev/null 2>&1 \
  || mvn -q dependency:build-classpath -pl cli -Dmdep.outputFile="$cp" >/dev/null
java -Djava.awt.headless=true -cp "$(cat "$cp")" bench/TrainingChart.java \
  "${1:-bench/results/gpu-train-h200.txt}" "${2:-docs/images/training-speed.png}"
rm -f "$cp"
echo "wrote ${2:-docs/images/training-speed.png}"
