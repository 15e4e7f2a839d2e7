#!/usr/bin/env bash
# Packs fastllm for a GPU host that has Python's torch but no Java: the class jars (cli, and the bench module's runners
# with the test jars they use), a jlink runtime and the GPU build of the PyTorch JNI library, in .carry/.
# Usage: bench/gpu/bundle.sh [path/to/make-bundle.sh]   M2: the local Maven repository (default ~/.m2/repository)
set -euo pipefail
cd "$(dirname "$0")/../.."
# make-bundle.sh: given, or in the shared folder beside the repository (../shared) or beside a worktree's folder
maker=${1:-}
for m in ../shared/gpu/make-bundle.sh ../../shared/gpu/make-bundle.sh; do
  [[ -z $maker && -f $m ]] && maker=$m
done
[[ -n $maker && -f $maker ]] || { echo "bundle: no make-bundle.sh at '${maker:-../shared/gpu}' (give its path)" >&2; exit 1; }
pytorch=2.10.0-1.5.13 javacpp=1.5.13
# One local repository for Maven and for the unzips here and in make-bundle.sh, which look for the jars under M2: every
# mvn call below is told it, so that what one downloads is where the next looks.
export M2=${M2:-$HOME/.m2/repository}
mvn() { command mvn -Dmaven.repo.local="$M2" "$@"; }
# The native jars make-bundle.sh unzips, fetched here first when the repository lacks them (make-bundle.sh's own
# download does not follow M2, and a failed one only shows as an unzip error): PyTorch's GPU build (458 MB, once)
# and JavaCPP's natives. -N: the goal runs once, not once per module of the reactor.
native_jar() {  # group artifact version classifier -> the jar's path in the repository, downloaded if missing
  local path="$M2/${1//.//}/$2/$3/$2-$3-$4.jar"
  if [[ ! -f $path ]]; then
    echo "downloading $1:$2:$3:$4 into $M2" >&2
    mvn -q -B -N dependency:get -Dartifact="$1:$2:$3:jar:$4" -Dtransitive=false >&2
  fi
  [[ -f $path ]] || { echo "bundle: $path is missing after its download; is Maven Central reachable?" >&2; exit 1; }
  echo "$path"
}
gpu_jar=$(native_jar org.bytedeco pytorch "$pytorch" linux-x86_64-gpu)
native_jar org.bytedeco javacpp "$javacpp" linux-x86_64 > /dev/null
rm -rf .carry/libs && mkdir -p .carry/libs
# cli, bench and what they depend on at run time, the modules and property-tests test jars included
mvn -q -B -DskipTests package dependency:copy-dependencies -pl cli,bench -am \
  -DincludeScope=runtime -DoutputDirectory="$PWD/.carry/libs"
# commons-compress (under the tokenizer library) names commons-lang3 in its module descriptor; the runtime image's
# module list is computed from these jars and fails without it.
mvn -q -B dependency:copy -Dartifact=org.apache.commons:commons-lang3:3.18.0 -DoutputDirectory="$PWD/.carry/libs"
# ProcessGroupNCCL's presets name CUDA's: their class jar goes with the jars, and the JNI glue of cudart and nccl
# (not the CUDA libraries, which are the host's) goes to .carry/jni.tar.xz for bench/gpu/ddp.sh to unpack beside
# libjnitorch: the presets load the glue of every CUDA library they name (cudart, cublas, nccl, ...).
cuda=org.bytedeco:cuda:13.1-9.19-1.5.13
mvn -q -B dependency:copy -Dartifact=$cuda -DoutputDirectory="$PWD/.carry/libs"
mvn -q -B dependency:copy -Dartifact=$cuda:jar:linux-x86_64 -DoutputDirectory="$PWD/.carry"
rm -rf .carry/jni .carry/jni.tar.xz && unzip -j -o -q .carry/cuda-*-linux-x86_64.jar 'org/bytedeco/cuda/linux-x86_64/*.so' -d .carry/jni
# and the CUDA-side glue of PyTorch itself (torch_cuda, torch_nccl), which make-bundle.sh leaves out, from the jar of
# PyTorch's GPU build (fetched above)
unzip -j -o -q "$gpu_jar" \
  'org/bytedeco/pytorch/linux-x86_64-gpu/libjnitorch_cuda.so' 'org/bytedeco/pytorch/linux-x86_64-gpu/libjnitorch_nccl.so' \
  -d .carry/jni
tar -C .carry/jni -cJf .carry/jni.tar.xz . && rm -rf .carry/jni
rm -f .carry/cuda-*-linux-x86_64.jar
rm -f .carry/libs/fastllm-*-0.1.0-SNAPSHOT.jar.original
# the tokenizer library's jar holds its native library for five platforms (19 MB); the GPU host needs linux-x86_64's
# only (5 MB), and the call carries at most 64 MiB
for jar in .carry/libs/tokenizers-*.jar; do
  [[ -f $jar ]] && zip -q -d "$jar" 'native/lib/linux-aarch64/*' 'native/lib/win-*' 'native/lib/osx-*' || true
done
"$maker" .carry/bundle.tar.xz .carry/libs cli/target/fastllm-cli-0.1.0-SNAPSHOT.jar \
  bench/target/fastllm-bench-0.1.0-SNAPSHOT.jar | tee .carry/bundle.log
grep -q java.desktop .carry/bundle.log || { echo "the runtime image lacks java.desktop: jdeps failed" >&2; exit 1; }
# the GPU scripts and the configs they train and decode (the working tree carries them too; .carry alone is enough)
cp bench/gpu/*.py bench/gpu/*.sh bench/gpu/*.yaml .carry/
rm -rf .carry/libs
ls -la .carry
