/** @file Token data files: `{"input_ids"[,"labels"]}` JSON or JSONL text records → validated, right-padded token batches. */
import { existsSync, readFileSync } from 'node:fs';
import type { TextTokenizer } from './tokenizer';

export class DataError extends Error {
  override name = 'DataError';
}

/** HF's ignore index: label positions with this value add nothing to the loss. */
export const IGNORE_INDEX = -100;

/** One training sequence; labels[t] is the target for position t (the causal shift happens in the loss). */
export interface SftExample {
  readonly inputIds: readonly number[];
  readonly labels: readonly number[];
}

/** A rectangular batch, row-major (B, T). */
export interface TokenBatch {
  readonly batchSize: number;
  readonly seqLen: number;
  readonly inputIds: Int32Array;
  readonly labels: Int32Array;
}

function isIntArray(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((v) => Number.isInteger(v));
}

/** Checks ids and labels against the vocabulary, naming the file, row and position of the first bad value. */
export function validateExamples(examples: readonly SftExample[], vocabSize: number, where: string): void {
  if (!examples.length) throw new DataError(`${where}: no training examples`);
  examples.forEach((ex, row) => {
    if (ex.inputIds.length === 0) throw new DataError(`${where}: row ${row}: "input_ids" is empty`);
    if (ex.labels.length !== ex.inputIds.length) {
      throw new DataError(`${where}: row ${row}: "labels" has ${ex.labels.length} entries but "input_ids" has ${ex.inputIds.length}`);
    }
    ex.inputIds.forEach((id, t) => {
      if (id < 0 || id >= vocabSize) throw new DataError(`${where}: row ${row}: "input_ids"[${t}] = ${id} is out of range [0, ${vocabSize})`);
    });
    ex.labels.forEach((id, t) => {
      if (id !== IGNORE_INDEX && (id < 0 || id >= vocabSize)) {
        throw new DataError(`${where}: row ${row}: "labels"[${t}] = ${id} is out of range (use -100 to ignore a position)`);
      }
    });
  });
}

/**
 * Reads a data file: either one JSON object `{"input_ids": int[][], "labels": int[][]}`, or JSONL
 * records `{"text"}` (every token trained) / `{"prompt","completion"}` (prompt tokens ignored).
 * Text is tokenized with the model's tokenizer, with its special tokens (BOS) as HF does.
 */
export function readSftData(path: string, tokenizer: TextTokenizer | null): SftExample[] {
  if (!existsSync(path)) throw new DataError(`${path}: file not found`);
  const text = readFileSync(path, 'utf8');
  const trimmed = text.trim();
  if (!trimmed) throw new DataError(`${path}: file is empty`);
  let whole: unknown;
  try {
    whole = JSON.parse(trimmed);
  } catch {
    whole = undefined; // not a single JSON document: read it as JSONL below
  }
  if (whole && typeof whole === 'object' && !Array.isArray(whole) && Array.isArray((whole as any).input_ids?.[0])) {
    return tokenBatchJson(whole, path);
  }
  return trimmed.split('\n').flatMap((line, i) => {
    if (!line.trim()) return [];
    let record: any;
    try {
      record = JSON.parse(line);
    } catch (e) {
      throw new DataError(`${path}: line ${i + 1}: invalid JSON (${(e as Error).message})`);
    }
    return [textRecord(record, `${path}: line ${i + 1}`, tokenizer)];
  });
}

function tokenBatchJson(raw: any, path: string): SftExample[] {
  const { input_ids: ids, labels } = raw;
  if (!Array.isArray(ids) || !ids.every(isIntArray)) throw new DataError(`${path}: field "input_ids" must be int[][]`);
  if (labels === undefined) return ids.map((row: number[]) => ({ inputIds: row, labels: row }));
  if (!Array.isArray(labels) || !labels.every(isIntArray)) throw new DataError(`${path}: field "labels" must be int[][]`);
  if (labels.length !== ids.length) throw new DataError(`${path}: field "labels" has ${labels.length} rows but "input_ids" has ${ids.length}`);
  return ids.map((row: number[], i: number) => ({ inputIds: row, labels: labels[i] }));
}

function textRecord(record: any, where: string, tokenizer: TextTokenizer | null): SftExample {
  if (record && isIntArray(record.input_ids)) {
    return { inputIds: record.input_ids, labels: isIntArray(record.labels) ? record.labels : record.input_ids };
  }
  if (!tokenizer) throw new DataError(`${where}: text records need the model's tokenizer.json`);
  if (record && typeof record.text === 'string') {
    const ids = tokenizer.encode(record.text);
    return { inputIds: ids, labels: ids };
  }
  if (record && typeof record.prompt === 'string' && typeof record.completion === 'string') {
    const promptIds = tokenizer.encode(record.prompt);
    const completionIds = tokenizer.encode(record.completion, { addSpecialTokens: false });
    return { inputIds: [...promptIds, ...completionIds], labels: [...promptIds.map(() => IGNORE_INDEX), ...completionIds] };
  }
  throw new DataError(`${where}: expected {"text"}, {"prompt","completion"} or {"input_ids","labels"}`);
}

/**
 * Pads rows on the right to the longest (labels −100 on padding). Right padding needs no attention
 * mask in a causal model: real tokens never attend to later positions, and pads carry no loss.
 */
export function collate(examples: readonly SftExample[], padId: number): TokenBatch {
  const seqLen = Math.max(...examples.map((e) => e.inputIds.length));
  const inputIds = new Int32Array(examples.length * seqLen).fill(padId);
  const labels = new Int32Array(examples.length * seqLen).fill(IGNORE_INDEX);
  examples.forEach((e, b) => {
    inputIds.set(e.inputIds, b * seqLen);
    labels.set(e.labels, b * seqLen);
  });
  return { batchSize: examples.length, seqLen, inputIds, labels };
}

/** Step i's rows: the whole set, or the i-th window of `batchSize` cycling through the data in order. */
export function batchForStep(examples: readonly SftExample[], step: number, batchSize?: number): SftExample[] {
  if (!batchSize || batchSize >= examples.length) return [...examples];
  const start = (step * batchSize) % examples.length;
  return Array.from({ length: batchSize }, (_, i) => examples[(start + i) % examples.length]);
}

/** Reads `{"input_ids": int[][]}` (rectangular) for scoring, naming the file and field on bad input. */
export function readInputIds(path: string): number[][] {
  if (!existsSync(path)) throw new DataError(`${path}: file not found`);
  let raw: any;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DataError(`${path}: invalid JSON (${(e as Error).message})`);
  }
  const ids = raw?.input_ids;
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every(isIntArray)) throw new DataError(`${path}: field "input_ids" must be a non-empty int[][]`);
  const t = ids[0].length;
  if (t === 0) throw new DataError(`${path}: field "input_ids" rows must not be empty`);
  const ragged = ids.findIndex((row: number[]) => row.length !== t);
  if (ragged >= 0) throw new DataError(`${path}: field "input_ids" must be rectangular: row ${ragged} has ${ids[ragged].length} ids, row 0 has ${t}`);
  return ids;
}
