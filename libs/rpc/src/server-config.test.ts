/** @file Config files: defaults, and one-line errors naming the file and field. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_MAX_MESSAGE_BYTES } from './server';
import { loadConfigFile, serverConfigSchema } from './server-config';

const dir = mkdtempSync(join(tmpdir(), 'seal-config-test-'));
const schema = z.object({ server: serverConfigSchema.prefault({}), workers: z.number().int().min(1).default(1) }).strict();
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('config files', () => {
  it('fills defaults from an empty or partial file, YAML or JSON', () => {
    expect(loadConfigFile(file('empty.yaml', ''), schema)).toEqual({ server: expect.objectContaining({ host: '127.0.0.1', maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES }), workers: 1 });
    expect(loadConfigFile(file('c.json', '{"server":{"port":7000},"workers":2}'), schema)).toMatchObject({ server: { port: 7000 }, workers: 2 });
  });

  it('names the file and the field in one line', () => {
    const bad = file('bad.yaml', 'server:\n  port: "seven"\n');
    expect(() => loadConfigFile(bad, schema)).toThrow(new RegExp(`^config ${bad}: server\\.port: .*number`));
    expect(() => loadConfigFile(file('typo.yaml', 'server:\n  prot: 1\n'), schema)).toThrow(/server: Unrecognized key.*prot/);
    expect(() => loadConfigFile(file('broken.yaml', 'server: [1, 2\n'), schema)).toThrow(/not valid YAML or JSON/);
    expect(() => loadConfigFile(join(dir, 'missing.yaml'), schema)).toThrow(/cannot read it \(ENOENT\)/);
  });
});
