#!/usr/bin/env bash
# Runs a main class of the cli or bench module on this machine from the worktree's build (cli/target/cp.txt and
# bench/target/classpath.txt, written by bench/fastllm-hf/check.sh's build step).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec java -cp "$root/cli/target/classes:$root/bench/target/classes:$(cat "$root/cli/target/cp.txt"):$(cat "$root/bench/target/classpath.txt")" "$@"
