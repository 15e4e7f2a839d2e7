#!/usr/bin/env bash
# Draws the loss curves of bench/gpu/curves.sh (a folder of curve-<case>-<java|python>-s<seed>.jsonl, that script's
# $OUT) as docs/images/loss-curves.png and prints the final validation losses as markdown tables
# (bench/gpu/curves_table.py: per run, and per case the Java and Python means, their difference and the seed spread).
# Usage: bench/curves-chart.sh curves-folder [out.png]
set -euo pipefail
cd "$(dirname "$0")/.."
folder=${1:?usage: bench/curves-chart.sh curves-folder [out.png]}
png=${2:-docs/images/loss-curves.png}
cp=$(mktemp)
mvn -q -o dependency:build-classpath -pl cli -Dmdep.outputFile="$cp" >/dev/null 2>&1 \
  || mvn -q dependency:build-classpath -pl cli -Dmdep.outputFile="$cp" >/dev/null
java -Djava.awt.headless=true -cp "$(cat "$cp")" bench/LossCurves.java "$folder" "$png"
rm -f "$cp"
echo "wrote $png"
python3 bench/gpu/curves_table.py "$folder"
