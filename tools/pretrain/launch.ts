/**
 * @file Starts (or resumes) the tiny-world pretraining run with the settings the committed model
 * uses, logging one line per step; `seal pretrain` with the same flags continues the same run.
 */
import path from 'node:path';
import { pretrainTinyModel } from '@seal/tasks';

const out = path.resolve(process.argv[2] ?? 'runs/pretrain-tiny');
const r = await pretrainTinyModel({
  out, worldSeed: 1, worldOverrides: { pretrainPeople: 600 }, model: { hiddenSize: 128, layers: 4, heads: 4, intermediateSize: 384 },
  epochs: 3, lr: 2e-3, warmup: 20, batchSize: 8, seqLen: 256, seed: 0, checkpointEvery: 25, resume: process.argv.includes('--resume'),
  onStep: (p) => console.log(`${new Date().toISOString()} step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)} ${p.tokensPerSec.toFixed(0)} tok/s`),
});
console.log(JSON.stringify({ ...r, losses: undefined }));
