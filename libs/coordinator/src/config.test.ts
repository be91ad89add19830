/** @file Run config: defaults, field-path errors, JSON/YAML loading, overrides, hashing and diffs for resume. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configHash, diffConfigs, formatResolvedConfig, loadRunConfig, mergeConfigInputs, parseRunConfig } from './config';
import { SealError } from './errors';
import { tempDirs } from './testing/temp-dirs';

const dirs = tempDirs('seal-config-');
afterAll(dirs.removeAll);

function errorOf(fn: () => unknown): SealError {
  try {
    fn();
  } catch (error) {
    return error as SealError;
  }
  throw new Error('expected a throw');
}

describe('run config', () => {
  it('fills the reference-shaped defaults from an empty input', () => {
    const config = parseRunConfig({});
    expect(config.rounds).toBe(2);
    expect(config.mode).toBe('merged');
    expect(config.reward).toEqual({ baseline: 'student', selection: 'best', bestRequiresPositive: false });
    expect(config.inner.sft.targets).toEqual(['q_proj', 'v_proj']);
    expect(config.mstep.sft.targets).toHaveLength(7);
    expect(config.mstep.merge).toBe(true);
    expect(config.selfEdits).toMatchObject({ perPassage: 5, temperature: 1, topP: 0.95, promptStyle: 'implications' });
  });

  it('names every bad field by its path, with the source', () => {
    const error = errorOf(() =>
      parseRunConfig({ rounds: 0, inner: { sft: { lr: -1, bogus: true } }, reward: { selection: 'worst' } }, 'run.yaml'),
    );
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain('run.yaml: rounds:');
    expect(error.message).toContain('run.yaml: inner.sft.lr:');
    expect(error.message).toMatch(/run\.yaml: inner\.sft: .*bogus/);
    expect(error.message).toContain('run.yaml: reward.selection:');
    expect(error.details.fields).toEqual(expect.arrayContaining(['rounds', 'inner.sft.lr', 'reward.selection']));
  });

  it('loads YAML and JSON files and lets overrides win', () => {
    const dir = dirs.make();
    writeFileSync(join(dir, 'a.yaml'), 'rounds: 3\nselfEdits:\n  perPassage: 7\n');
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ mode: 'separated', inner: { evalTimes: 3 } }));
    const fromYaml = loadRunConfig(join(dir, 'a.yaml'), { selfEdits: { temperature: 0.7 } });
    expect(fromYaml.rounds).toBe(3);
    expect(fromYaml.selfEdits.perPassage).toBe(7);
    expect(fromYaml.selfEdits.temperature).toBe(0.7);
    const fromJson = loadRunConfig(join(dir, 'b.json'), { rounds: 1 });
    expect(fromJson).toMatchObject({ mode: 'separated', rounds: 1, inner: { evalTimes: 3 } });
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect(errorOf(() => loadRunConfig(join(dir, 'bad.json'))).message).toContain('bad.json');
    expect(errorOf(() => loadRunConfig(join(dir, 'missing.yaml'))).message).toContain('missing.yaml');
    writeFileSync(join(dir, 'typed.yaml'), 'data:\n  passagesPerRound: many\n');
    expect(errorOf(() => loadRunConfig(join(dir, 'typed.yaml'))).message).toContain('typed.yaml: data.passagesPerRound:');
  });

  it('merges nested layers without dropping sibling fields', () => {
    expect(mergeConfigInputs({ inner: { evalTimes: 3, sft: { lr: 0.01 } } }, { inner: { sft: { epochs: 4 } } })).toEqual({
      inner: { evalTimes: 3, sft: { lr: 0.01, epochs: 4 } },
    });
  });

  it('hashes only result-defining fields and diffs by field path', () => {
    const a = parseRunConfig({});
    const moved = parseRunConfig({ students: { addresses: ['10.0.0.1:50051'] }, rpc: { evaluateDeadlineMs: 5 }, rounds: 5 });
    expect(configHash(moved)).toBe(configHash(a));
    const changed = parseRunConfig({ inner: { sft: { lr: 0.002 } }, seed: 9 });
    expect(configHash(changed)).not.toBe(configHash(a));
    expect(diffConfigs(a, changed)).toEqual(['inner.sft.lr: 0.001 → 0.002', 'seed: 0 → 9']);
  });

  it('prints the resolved config as YAML that parses back to the same config', async () => {
    const config = parseRunConfig({ rounds: 4 });
    const text = formatResolvedConfig(config);
    expect(text).toMatch(/^# resolved SEAL run config \(config hash [0-9a-f]{16}\)/);
    const YAML = (await import('yaml')).default;
    expect(parseRunConfig(YAML.parse(text))).toEqual(config);
  });
});
