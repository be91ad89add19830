#!/usr/bin/env bash
# @file Builds everything the GPU machine needs into .gpu-check/ (ignored through .git/info/exclude):
# the bundled check program, onnxruntime-node's native files, this machine's Node binary (xz), the
# PEFT round-trip inputs made with our CLI, and the Vulkan loader debs in .gl/ (device README recipe).
# The device may have no Node.js and no network, so nothing there may need node_modules or a download.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
out=.gpu-check
for ignored in /.gpu-check/ /.gpu-check-peft/; do
  grep -qx "$ignored" .git/info/exclude 2>/dev/null || echo "$ignored" >>.git/info/exclude
done
rm -rf "$out" .gpu-check-peft
mkdir -p "$out"

# 1. The check program, bundled with our libraries; onnxruntime-node stays external and is copied
#    as a minimal package below (its binding is loaded by a relative require of a .node file).
esbuild=$(ls node_modules/.pnpm/@esbuild+linux-x64@*/node_modules/@esbuild/linux-x64/bin/esbuild | head -1)
"$esbuild" tools/gpu-check/check.ts --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-node --outfile="$out/check.mjs" --log-level=warning \
  --banner:js="import { createRequire as __seal_createRequire } from 'node:module'; const require = __seal_createRequire(import.meta.url);"
# The runtime starts its session worker as new URL('./session-worker.mjs', import.meta.url).
cp libs/engine/src/runtime/session-worker.mjs "$out/"

ort=$(readlink -f libs/engine/node_modules/onnxruntime-node)
common=$(readlink -f "$ort/../onnxruntime-common")
pkg="$out/node_modules/onnxruntime-node"
mkdir -p "$pkg/bin/napi-v6/linux/x64" "$out/node_modules/onnxruntime-common"
cp -r "$ort/package.json" "$ort/dist" "$pkg/"
cp "$ort/bin/napi-v6/linux/x64/onnxruntime_binding.node" "$pkg/bin/napi-v6/linux/x64/"
cp -r "$common/package.json" "$common/dist" "$out/node_modules/onnxruntime-common/"
# 45 MB uncompressed; unpacked beside the binding on the device (its RUNPATH is $ORIGIN).
xz -T1 -6 -c "$ort/bin/napi-v6/linux/x64/libonnxruntime.so.1" >"$out/libonnxruntime.so.1.xz"
xz -T1 -6 -c "$(command -v node)" >"$out/node.xz"

# 2. PEFT round trip inputs: adapters trained by our CLI on tiny checkpoints, our logits with and
#    without them, and our merged checkpoints; the device compares them with transformers + peft.
#    A carry of its own (.gpu-check-peft): with the Node bundle it no longer fits in one.
peft=.gpu-check-peft
mkdir -p "$peft"
seal() { OMP_NUM_THREADS=1 npx tsx apps/cli/src/main.ts "$@"; }
node -e '
  const fs = require("fs");
  const rows = (vocab, seed) => { let s = seed; const next = () => (s = (s * 1103515245 + 12345) % 2147483648) % vocab;
    return Array.from({ length: 3 }, () => Array.from({ length: 12 }, next)); };
  for (const [name, vocab] of [["llama-fp32", 272], ["qwen2-fp32", 272], ["tiny-world", 1126]]) {
    const ids = rows(vocab, 42);
    fs.writeFileSync(process.argv[1] + "/" + name + "-data.json", JSON.stringify({ input_ids: ids, labels: ids }));
    fs.writeFileSync(process.argv[1] + "/" + name + "-input.json", JSON.stringify({ input_ids: rows(vocab, 7) }));
  }' "$peft"
for case in llama-fp32:libs/model/src/fixtures/llama-fp32:q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj \
            qwen2-fp32:libs/model/src/fixtures/qwen2-fp32:q_proj,v_proj \
            tiny-world:models/tiny-world:q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj; do
  IFS=: read -r name model targets <<<"$case"
  mkdir -p "$peft/$name-base"
  # A copy of the base travels with the case, so the comparison uses exactly the weights our CLI saw.
  cp "$model"/config.json "$model"/*.safetensors "$peft/$name-base/"
  seal sft --model "$model" --rank 4 --alpha 8 --targets "$targets" --data "$peft/$name-data.json" \
    --steps 5 --lr 0.01 --out "$peft/$name-adapter" >"$peft/$name-sft.jsonl"
  seal model logits --model "$model" --input "$peft/$name-input.json" >"$peft/$name-base-logits.json"
  seal model logits --model "$model" --adapter "$peft/$name-adapter" --input "$peft/$name-input.json" >"$peft/$name-adapter-logits.json"
  seal model merge --model "$model" --adapter "$peft/$name-adapter" --out "$peft/$name-merged"
  seal model logits --model "$peft/$name-merged" --input "$peft/$name-input.json" >"$peft/$name-merged-logits.json"
  rm -f "$peft/$name-merged"/tokenizer*.json
done

# 3. Vulkan loaders for WebGPU (Dawn), per the device README; .gl/ is ignored by .gitignore.
if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update >/dev/null
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi

# Each carry travels with the tracked tree; the device takes 64 MiB a call (60 here, for margin).
tree=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
fits=1
for carry in "$out .gl" "$peft"; do
  # shellcheck disable=SC2086
  size=$(du -cb $carry | tail -1 | cut -f1)
  echo "carry [$carry]: $((size / 1048576)) MiB + tracked tree $((tree / 1048576)) MiB (device limit 64 MiB)"
  ((size + tree <= 60 * 1048576)) || fits=0
done
if ((!fits)); then echo "too large to travel" >&2; exit 1; fi
