#!/usr/bin/env bash
# Config loading at scale: a 10,000-layer config with 50 block definitions.
#  1. builds the bench module and its dependencies (bench/classpath.sh; skip with SKIP_BUILD=1 once built),
#  2. writes the config to a temporary YAML file,
#  3. times ConfigLoader.load warm, in process, against reading the YAML tree alone (ConfigScaleBench),
#  4. times a cold JVM that loads the file once (ColdValidate), RUNS times (default 5), and prints the median.
# Goals: under 50 ms warm, under 1.5 s cold.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/config-scale.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# Loading a config reaches no native code: the jars of the tensor side are left off the classpath, so the cold JVM
# opens only what validation needs, as the command does.
CP=$(bench/classpath.sh | tr ':' '\n' | grep -v -e '/org/bytedeco/' -e '/ai/djl/' -e '^modules/' -e '/modules/target/' \
  | paste -sd:)
CONFIG="$WORK/config-10000-layers.yaml"

java -cp "$CP" org.fastllm.properties.bench.ConfigScaleBench --write "$CONFIG"
echo
echo "== warm, in process"
java -cp "$CP" org.fastllm.properties.bench.ConfigScaleBench "$CONFIG"
echo
echo "== cold: a fresh JVM loads the file once ($RUNS runs)"
times=()
for ((i = 1; i <= RUNS; i++)); do
  start=$(date +%s%N)
  java -cp "$CP" org.fastllm.properties.bench.ColdValidate "$CONFIG" >/dev/null
  end=$(date +%s%N)
  ms=$(((end - start) / 1000000))
  times+=("$ms")
  echo "run $i: $ms ms"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "cold median: $median ms (goal < 1500 ms)"

if [[ -f cli/target/fastllm-cli.jar ]]; then
  echo
  echo "== cold: the command as users run it ($RUNS runs each)"
  rm -rf "$WORK/cds" && export XDG_CACHE_HOME="$WORK/cds"
  bin/fastllm-cli validate "$CONFIG" >/dev/null   # records the class-data-sharing archive
  for cmd in "java -jar cli/target/fastllm-cli.jar" "bin/fastllm-cli"; do
    times=()
    for ((i = 1; i <= RUNS; i++)); do
      start=$(date +%s%N)
      $cmd validate "$CONFIG" >/dev/null
      end=$(date +%s%N)
      times+=($(((end - start) / 1000000)))
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "$cmd validate: median $median ms (goal < 1500 ms)"
  done
fi
