/**
 * @file A model folder's tuned run settings (`inner_loop.json`, as `seal run` reads them) with a
 * probe's `--sft` JSON laid over the inner loop's SFT, validated by the coordinator's schema.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeConfigInputs, parseRunConfig, type RunConfig, type RunConfigInput } from '@seal/coordinator';

function readJson(what: string, read: () => string): unknown {
  try {
    return JSON.parse(read());
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`);
  }
}

type SftInput = NonNullable<RunConfigInput['inner']>['sft'];

/** The resolved config, and the overrides as given (probes print them beside their result). */
export function modelRunConfig(modelDir: string, sftJson: string): { config: RunConfig; sftOverrides: SftInput } {
  const settingsFile = join(modelDir, 'inner_loop.json');
  const settings = readJson(settingsFile, () => readFileSync(settingsFile, 'utf8')) as RunConfigInput;
  const sftOverrides = readJson('--sft', () => sftJson) as SftInput;
  return { config: parseRunConfig(mergeConfigInputs(settings, { inner: { sft: sftOverrides } }), `${settingsFile} + --sft`), sftOverrides };
}
