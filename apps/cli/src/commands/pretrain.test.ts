/** @file `seal pretrain` pieces: world overrides are checked by name, and the loss curve is written as CSV, SVG and PNG. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWorldOverrides, writeLossCurve } from './pretrain';

describe('seal pretrain', () => {
  it('parses --set world overrides and names a bad one', () => {
    expect(parseWorldOverrides(['pretrainPeople=600', 'directQuestionRate=0.3'])).toEqual({ pretrainPeople: 600, directQuestionRate: 0.3 });
    expect(() => parseWorldOverrides(['people=600'])).toThrow(/--set: unknown world config field "people"/);
    expect(() => parseWorldOverrides(['pretrainPeople'])).toThrow('--set expects key=value, got "pretrainPeople"');
    expect(() => parseWorldOverrides(['pretrainPeople=many'])).toThrow('--set pretrainPeople: "many" is not a number');
  });

  it('writes loss.csv, loss.svg and a PNG', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'loss-curve-'));
    try {
      const written = await writeLossCurve(dir, [{ step: 1, loss: 7 }, { step: 2, loss: 5.5 }, { step: 3, loss: 4 }]);
      expect(written).toEqual(['loss.csv', 'loss.svg', 'loss.png']);
      expect(readFileSync(path.join(dir, 'loss.csv'), 'utf8')).toBe('step,loss\n1,7\n2,5.5\n3,4\n');
      expect(readFileSync(path.join(dir, 'loss.svg'), 'utf8')).toMatch(/<svg/);
      expect(readFileSync(path.join(dir, 'loss.png')).subarray(1, 4).toString()).toBe('PNG');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
