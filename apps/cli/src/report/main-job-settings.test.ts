/** @file Settings resolution of `seal run`: layering (defaults < file < flags, journaled config under all on resume), the CLI's own keys, and bad input naming the field. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR, DEFAULT_TEST_PASSAGES, MAIN_JOB_DEFAULTS, readExtras, resolveSettings, writeExtras } from './main-job-settings';

const tmp = mkdtempSync(join(tmpdir(), 'seal-settings-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
};

describe('resolveSettings', () => {
  it('layers main-job defaults < config file < flags, and keeps the CLI keys apart from the run config', () => {
    const configFile = file('a.yaml', 'seed: 4\nrounds: 3\nmodel: some/model\ntable: { testPassages: 5 }\nselfEdits: { perPassage: 4 }\n');
    const s = resolveSettings({ configFile, overrides: { rounds: 1 }, extras: {} });
    expect(s.config).toMatchObject({ seed: 4, rounds: 1, selfEdits: { perPassage: 4 }, data: { passagesPerRound: MAIN_JOB_DEFAULTS.data!.passagesPerRound } });
    expect(s.extras).toEqual({ model: join(process.cwd(), 'some/model'), table: { testPassages: 5 } });
    expect(resolveSettings({ overrides: {}, extras: {} }).extras.table.testPassages).toBe(DEFAULT_TEST_PASSAGES);
  });

  it("layers the model folder's inner_loop.json between the main-job defaults and the file", () => {
    const model = join(tmp, 'model-with-settings');
    mkdirSync(model, { recursive: true });
    writeFileSync(join(model, 'inner_loop.json'), JSON.stringify({ inner: { sft: { lr: 0.002, epochs: 20 } }, selfEdits: { maxNewTokens: 160 } }));
    const configFile = file('f.yaml', 'inner: { sft: { epochs: 5 } }\n');
    const s = resolveSettings({ configFile, overrides: {}, extras: { model } });
    expect(s.config.inner.sft).toMatchObject({ lr: 0.002, epochs: 5 });
    expect(s.config.selfEdits).toMatchObject({ maxNewTokens: 160, perPassage: MAIN_JOB_DEFAULTS.selfEdits!.perPassage });
    writeFileSync(join(model, 'inner_loop.json'), '{ nope');
    expect(() => resolveSettings({ overrides: {}, extras: { model } })).toThrow(/cannot parse .*inner_loop\.json/);
  });

  it('on resume, the journaled config is the base layer: unchanged without flags, a flag changes only its field', () => {
    const first = resolveSettings({ overrides: { seed: 9, rounds: 1 }, extras: { testPassages: 3 } });
    const again = resolveSettings({ overrides: {}, extras: {}, base: first });
    expect(again).toEqual(first);
    const more = resolveSettings({ overrides: { rounds: 2 }, extras: {}, base: first });
    expect(more.config).toEqual({ ...first.config, rounds: 2 });
  });

  it('bad input names the file and field', () => {
    expect(() => resolveSettings({ configFile: file('b.yaml', 'table: { testPassages: 2, extra: 1 }\n'), overrides: {}, extras: {} })).toThrow(/b\.yaml: table: unknown key\(s\) extra/);
    expect(() => resolveSettings({ configFile: file('c.yaml', 'table: { testPassages: 0 }\n'), overrides: {}, extras: {} })).toThrow(/c\.yaml: table\.testPassages: expected a positive integer, got 0/);
    expect(() => resolveSettings({ configFile: file('d.yaml', 'model: 3\n'), overrides: {}, extras: {} })).toThrow(/d\.yaml: model: expected a non-empty string/);
    expect(() => resolveSettings({ configFile: file('e.yaml', 'inner: { bogus: 1 }\n'), overrides: {}, extras: {} })).toThrow(/invalid run config\ne\.yaml|e\.yaml: inner/);
    expect(() => resolveSettings({ configFile: join(tmp, 'missing.yaml'), overrides: {}, extras: {} })).toThrow(/cannot read run config .*missing\.yaml/);
    expect(() => resolveSettings({ overrides: {}, extras: { studentModel: 'x' } })).toThrow(/studentModel: a separate student model needs mode separated/);
  });

  it('readExtras refuses changed settings of a run, naming the field', () => {
    const s = resolveSettings({ overrides: {}, extras: { testPassages: 2 } });
    writeExtras(tmp, s.extras);
    expect(readExtras(tmp, s.extras)).toEqual(s.extras);
    expect(() => readExtras(tmp, { ...s.extras, table: { testPassages: 4 } })).toThrow(/changed settings: table\.testPassages: 2 → 4/);
    expect(() => readExtras(join(tmp, 'nope'))).toThrow(/main-job\.json is missing/);
  });
});

describe('experiments/configs', () => {
  const dir = join(import.meta.dirname, '..', '..', '..', '..', 'experiments', 'configs');
  it.each(['knowledge-tiny', 'knowledge-tiny-merged', 'knowledge-tiny-separated'])('%s.yaml resolves', (name) => {
    const s = resolveSettings({ configFile: join(dir, `${name}.yaml`), overrides: {}, extras: {} });
    expect(s.config.name).toBe(name);
    expect(s.config.mode).toBe(name.endsWith('separated') ? 'separated' : 'merged');
    expect(s.extras.model).toBe(DEFAULT_MODEL_DIR);
    expect(DEFAULT_MODEL_DIR).toMatch(/\/models\/tiny-world$/);
  });

  it('knowledge-tiny.yaml is the main job: the same resolved config as `seal run` with no file', () => {
    const experiment = resolveSettings({ configFile: join(dir, 'knowledge-tiny.yaml'), overrides: {}, extras: {} });
    const mainJob = resolveSettings({ overrides: {}, extras: {} });
    expect({ ...experiment.config, name: mainJob.config.name }).toEqual(mainJob.config);
    expect(experiment.extras).toEqual(mainJob.extras);
  });
});
