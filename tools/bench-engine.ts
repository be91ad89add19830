/** @file Engine benchmark: graph-build, session-creation and per-run times for a 2-layer transformer training step (`pnpm bench:engine`), with PyTorch eager as the reference in the same run. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  adamw, buildTrainStep, constantSchedule, createRuntime, createTrainer, hostTensor, input, Rng, tinyFeeds, tinyInit,
  tinyTransformer, toOnnxModel, type TinyConfig,
} from '@seal/engine';

const threads = Number(process.env.BENCH_THREADS ?? 2);
const config: TinyConfig = { vocab: 256, dim: 128, heads: 4, kvHeads: 2, hidden: 344, layers: 2, ropeTheta: 10000, normEps: 1e-5 };
const [batch, seq] = [8, 64];
const runs = Number(process.env.BENCH_RUNS ?? 20);

const ms = (t0: number) => performance.now() - t0;
const fmt = (v: number) => `${v.toFixed(2)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const params = Object.values(tinyInit(config, 0)).reduce((n, t) => n + t.data.length, 0);
  console.log(`2-layer transformer: dim ${config.dim}, heads ${config.heads}/${config.kvHeads}, hidden ${config.hidden}, vocab ${config.vocab}, ` +
    `${(params / 1e6).toFixed(2)}M params; batch ${batch}×${seq}; ${threads} intra-op thread(s)`);

  // 1. Graph build: trace the model, differentiate, add AdamW, emit the ModelProto.
  let t0 = performance.now();
  const model = tinyTransformer(config);
  const step = buildTrainStep({ loss: model.loss, params: model.params, optimizer: adamw(), maxGradNorm: 1 });
  const traced = ms(t0);
  t0 = performance.now();
  const bytes = toOnnxModel(step.outputs);
  const emitted = ms(t0);
  console.log(`graph build:        ${fmt(traced)} trace+grad+optimizer, ${fmt(emitted)} emit (${(bytes.length / 1024).toFixed(0)} KiB ModelProto)`);

  // 2. Session creation (worker start excluded: the runtime is warmed on a trivial graph first).
  const rt = createRuntime({ intraOpThreads: threads });
  const tiny = await rt.compile({ y: input('x', [1]).add(1) });
  t0 = performance.now();
  const trainer = await createTrainer(rt, { loss: model.loss, params: model.params, optimizer: adamw(), maxGradNorm: 1 }, tinyInit(config, 0), constantSchedule(1e-3));
  console.log(`session creation:   ${fmt(ms(t0))} (emit + ORT InferenceSession.create in the worker)`);

  // 3. Per-run overhead: a one-element graph measures the worker round trip and feed checks.
  const one = { x: hostTensor('float32', [1], [1]) };
  for (let i = 0; i < 20; i++) await tiny.run(one);
  const overhead: number[] = [];
  for (let i = 0; i < 200; i++) {
    t0 = performance.now();
    await tiny.run(one);
    overhead.push(ms(t0));
  }
  console.log(`per-run overhead:   ${fmt(median(overhead))} median (1-element graph, worker round trip)`);

  // 4. The training step itself: one session run doing forward + backward + clip + AdamW.
  const rng = new Rng(1);
  const ids = Array.from({ length: batch }, () => Array.from({ length: seq }, () => rng.int(config.vocab)));
  const feeds = tinyFeeds(config, ids, ids.map((r) => [...r.slice(1), -100]));
  for (let i = 0; i < 3; i++) await trainer.step(feeds);
  const steps: number[] = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    const r = await trainer.step(feeds);
    steps.push(ms(t0));
    if (!r.ok) throw new Error(`step failed: ${r.reason}`);
  }
  const tokens = batch * seq;
  console.log(`training step:      ${fmt(median(steps))} median of ${runs} (${(tokens / (median(steps) / 1000)).toFixed(0)} tokens/s)`);

  const fwd = await rt.compile({ loss: model.loss });
  const weights = tinyInit(config, 0);
  for (let i = 0; i < 3; i++) await fwd.run({ ...feeds, ...weights });
  const fw: number[] = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    await fwd.run({ ...feeds, ...weights });
    fw.push(ms(t0));
  }
  console.log(`forward only:       ${fmt(median(fw))} median (loss, weights fed as host tensors)`);
  await trainer.release();
  await rt.release();

  // 5. PyTorch eager on the same model and thread count, run right after (set BENCH_TORCH=0 to skip).
  if (process.env.BENCH_TORCH === '0') return;
  const torch = torchReference(runs);
  if (!torch) return;
  console.log(`pytorch ${torch.torch} eager:  ${fmt(torch.train_ms)} train step, ${fmt(torch.forward_ms)} forward ` +
    `→ engine speed-up ×${(torch.train_ms / median(steps)).toFixed(2)} train, ×${(torch.forward_ms / median(fw)).toFixed(2)} forward`);
}

/** Runs tools/fixtures/engine/bench_torch_step.py with Debian's torch; undefined (with a note) when torch is missing. */
function torchReference(runs: number): { train_ms: number; forward_ms: number; torch: string } | undefined {
  const script = fileURLToPath(new URL('./fixtures/engine/bench_torch_step.py', import.meta.url));
  try {
    const out = execFileSync('/usr/bin/python3', [script, JSON.stringify(config), String(batch), String(seq), String(runs)], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE', OPENBLAS_THREAD_TIMEOUT: '4' },
    });
    return JSON.parse(out.trim().split('\n').pop()!);
  } catch (e) {
    console.log(`pytorch reference skipped: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

await main();
