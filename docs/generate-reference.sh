#!/usr/bin/env bash
# Regenerates docs/reference/config.md from the config records, with the example plugin's kinds installed.
# ConfigReferenceFileTest (mvn -B verify) fails with "docs/reference/config.md is stale" until this has been run.
# SKIP_BUILD=1 reuses the jars of the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  mvn -B -q -DskipTests package -pl cli,example-plugin -am
fi
java -cp cli/target/fastllm-cli.jar:example-plugin/target/fastllm-example-plugin-0.1.0-SNAPSHOT.jar \
  org.fastllm.dsl.reference.ConfigReference docs/reference/config.md
echo "wrote docs/reference/config.md"
