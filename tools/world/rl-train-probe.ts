/** @file What the RL-train probes start from: the model's world, its ground truth, its run settings and the first N RL-train passages. */
import { passageContexts, readModelWorld } from '@seal/tasks';
import { factChecker } from './fact-check';
import { modelRunConfig } from './model-settings';

export function rlTrainProbe(modelDir: string, sftJson: string, passageCount: number) {
  const { world } = readModelWorld(modelDir);
  const passages = world.splits['rl-train'].slice(0, passageCount);
  return { facts: factChecker(world), config: modelRunConfig(modelDir, sftJson).config, passages, own: passageContexts(passages, 'train') };
}
