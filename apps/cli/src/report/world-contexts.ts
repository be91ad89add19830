/**
 * @file The tiny world as the coordinator's contexts: RL-train passages for the rounds, test
 * passages and their oracle self-edits for the table. The world is regenerated from the seed and
 * config the model was pretrained on (`<model>/world.json`), so no data files need to ship.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KnowledgeContext } from '@seal/coordinator';
import { generateWorld, passageContexts, readWorldFile, type WorldConfig } from '@seal/tasks';

/** The world the committed tiny model was pretrained on (tools/world/make-world.ts default). */
export const DEFAULT_WORLD_SEED = 1;

export interface WorldContexts {
  worldSeed: number;
  train: KnowledgeContext[];
  test: KnowledgeContext[];
  /** test passage id → the oracle self-edit (gold implications). */
  oracle: Record<string, string>;
}

/**
 * `source` is the run config's data.source: 'tiny-world' (the world recorded beside the model, or
 * the default world when the model folder has none, e.g. a run against remote services) or a
 * folder holding a `world.json` written by `pnpm world`.
 */
export function loadWorldContexts(source: string, modelDir: string): WorldContexts {
  const worldFile = source === 'tiny-world' ? join(modelDir, 'world.json') : join(source, 'world.json');
  let seed = DEFAULT_WORLD_SEED;
  let config: Partial<WorldConfig> = {};
  if (existsSync(worldFile)) {
    ({ seed, config } = readWorldFile(worldFile));
  } else if (source !== 'tiny-world') {
    throw new Error(`data.source: ${source} is neither "tiny-world" nor a folder with a world.json`);
  }
  const world = generateWorld(seed, config);
  const test = passageContexts(world.splits.test, 'test');
  return {
    worldSeed: seed,
    train: passageContexts(world.splits['rl-train'], 'train'),
    test,
    oracle: Object.fromEntries(world.splits.test.map((p, i) => [test[i]!.id, p.oracle])),
  };
}
