#!/usr/bin/env bash
# @file The command the GPU machine runs (repo root, after prepare.sh here; carry .gpu-check and .gl, or .gpu-check-peft for the PEFT part):
# unpack Node, ORT and the Vulkan loaders, then the PEFT round trip, the Node check and the Python ORT
# check, each under its own timeout so one hang loses nothing else. Results land in $OUT.
set -u
out=${OUT:-/tmp/gpu-check-out}
threads=${GPU_CHECK_THREADS:-16}
mkdir -p "$out"
log="$out/log.txt"
exec > >(tee -a "$log") 2>&1

# GPU_CHECK_NO_GL=1 (a dry run on a development machine) leaves / alone; so does a call without .gl (the PEFT part).
if [ -z "${GPU_CHECK_NO_GL:-}" ] && [ -d .gl ]; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  nproc
  ldconfig -p | grep -i vulkan
  ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>&1
} >"$out/env.txt" 2>&1
cat "$out/env.txt"
# The NVIDIA Vulkan driver lives outside the loader's default search path on these machines.
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES="$icd"

# GPU_CHECK_PARTS picks parts (a rerun can skip what already passed). The PEFT part needs only
# .gpu-check-peft; the others need .gpu-check and .gl (two carries: together they exceed 64 MiB).
parts=${GPU_CHECK_PARTS:-node,ort,placement}
has() { [[ ",$parts," == *",$1,"* ]]; }

if has node || has ort || has placement; then
  xz -dc .gpu-check/node.xz >/tmp/node && chmod +x /tmp/node
  xz -dc .gpu-check/libonnxruntime.so.1.xz >.gpu-check/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
  /tmp/node --version
  # onnxruntime-node ships no CUDA provider. If this machine's Python onnxruntime (same 1.30) carries
  # one, put it beside the Node binding so the check's direct-ORT sections can try it.
  capi=$(python3 -c 'import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__) + "/capi")' 2>/dev/null)
  if [ -n "$capi" ] && [ -f "$capi/libonnxruntime_providers_cuda.so" ]; then
    cp "$capi"/libonnxruntime_providers_shared.so "$capi"/libonnxruntime_providers_cuda.so .gpu-check/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/
    echo "borrowed Python onnxruntime's CUDA provider from $capi"
  fi
fi

if has peft; then
  echo "== PEFT round trip"
  PYTHONUNBUFFERED=1 timeout 80 python3 tools/gpu-check/peft_check.py peft --peft-dir .gpu-check-peft --out "$out/peft.json"
fi
if has node; then
  echo "== Node check (CPU threads: $threads)"
  # GPU memory and load once a second while it runs: evidence the GPU, not a software adapter, did the work.
  (while sleep 1; do nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader; done >"$out/smi.txt" 2>&1) &
  smi=$!
  timeout 140 /tmp/node .gpu-check/check.mjs --out "$out/gpu-check.json" --threads "$threads" --dump-graph /tmp/gpu-check-graph ${GPU_CHECK_ARGS:-}
  kill "$smi"
fi
if has ort; then
  echo "== Python onnxruntime"
  PYTHONUNBUFFERED=1 timeout 25 python3 tools/gpu-check/peft_check.py ort --graph-dir /tmp/gpu-check-graph --out "$out/ort-python.json"
fi
if has placement; then
  echo "== Node placements on webgpu (ORT verbose log, filtered)"
  timeout 60 /tmp/node .gpu-check/check.mjs --placement "${GPU_CHECK_PLACEMENT:-webgpu}" 2>/tmp/placement.log >/dev/null
  grep -E '=== placement|VerifyEachNodeIsAssignedToAnEp' /tmp/placement.log | sed -E 's/^[0-9-]+ [0-9:.]+ \[V:onnxruntime:[^]]*\] //' >"$out/placement.txt"
  grep -iE 'adapter|vendor|architecture' /tmp/placement.log | head -20
  grep -E '=== placement|placed on' "$out/placement.txt"
fi
echo "== done"
