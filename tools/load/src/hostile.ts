/**
 * @file Malformed and hostile requests against a live StudentService and TeacherService: garbage
 * bytes, fields of the wrong wire type, missing and out-of-range fields, huge fields (over and
 * under the message limit), invalid UTF-8, unknown checkpoints, bad chunk sequences, wrong sha256
 * and path traversal. Requests go out as raw bytes (identity serializers) so nothing on the client
 * side can tidy them up; each case names the status codes that are a right answer (and, for
 * invalid UTF-8, the message naming the field), and the processes must survive them all.
 */
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as pb from '@seal/proto';
import { toProto } from '@seal/rpc';
import type { CheckpointRef } from '@seal/coordinator';
import { evaluateJob } from './jobs';

const S = grpc.status;
type Code = grpc.status;

export interface HostileCase {
  category: string;
  /** The encoded messages (one for unary; the stream's messages otherwise). */
  messages: Buffer[];
  /** Status codes that are a right answer. */
  expect: Code[];
  /** When set, the status message must match too (e.g. it must name the offending field). */
  details?: RegExp;
}

export interface HostileTally {
  rpc: string;
  cases: number;
  /** per category: count and the codes seen. */
  categories: Record<string, { count: number; codes: Record<string, number>; wrong: number }>;
  wrong: { category: string; code: string; details: string }[];
}

/** A small seeded generator so every run sends the same 500 requests. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const identity = (b: Buffer) => b;
const encodeEvaluate = (r: pb.EvaluateRequest) => Buffer.from(pb.EvaluateRequest.encode(r).finish());
const hex = (rand: () => number, n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');

/** Replaces the bytes of `marker` (ASCII, inside a string field) with invalid UTF-8 of the same length. */
function withInvalidUtf8(bytes: Buffer, marker: string): Buffer {
  const at = bytes.indexOf(Buffer.from(marker, 'latin1'));
  if (at < 0) throw new Error(`marker ${marker} not in the encoded request`);
  const out = Buffer.from(bytes);
  const bad = [0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xc0];
  for (let i = 0; i < marker.length; i++) out[at + i] = bad[i % bad.length]!;
  return out;
}

/** `bytes` with its ZQZQZQZQ marker spoiled: INVALID_ARGUMENT naming `field`, nothing else. */
function invalidUtf8Case(bytes: Buffer, field: string): HostileCase {
  const escaped = field.replace(/[.[\]]/g, '\\$&');
  return { category: 'invalid UTF-8', messages: [withInvalidUtf8(bytes, 'ZQZQZQZQ')], expect: [S.INVALID_ARGUMENT], details: new RegExp(`^${escaped} is not valid UTF-8$`) };
}

/**
 * The Evaluate cases. Every request that would decode and validate names a checkpoint the
 * student does not hold, so none of them starts real (expensive) work: FAILED_PRECONDITION is
 * then the right answer. `maxMessageBytes` is the server's limit.
 */
export function evaluateCases(count: number, base: CheckpointRef, maxMessageBytes: number): HostileCase[] {
  const rand = prng(8);
  const unknown = (i: number): CheckpointRef => ({ id: `unknown-${i}`, sha256: hex(rand, 64), size: 1 + Math.floor(rand() * 1e6) });
  const valid = (i: number) => toProto.evaluateRequest(evaluateJob(i, unknown(i), 'hostile'));
  const makers: ((i: number) => HostileCase)[] = [
    () => ({ category: 'garbage bytes', messages: [Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)))], expect: [S.INVALID_ARGUMENT, S.INTERNAL] }),
    (i) => {
      // idempotency_key (field 1, a string) sent as a varint: a decoder skips it, so the key is missing.
      const rest = encodeEvaluate({ ...valid(i), idempotencyKey: '' });
      return { category: 'wrong wire type', messages: [Buffer.concat([Buffer.from([0x08, 0x96, 0x01]), rest])], expect: [S.INVALID_ARGUMENT] };
    },
    (i) => {
      const r = valid(i);
      const drop = (['baseCheckpoint', 'context', 'selfEdit', 'sft', 'eval'] as const)[i % 5]!;
      return { category: 'missing field', messages: [encodeEvaluate({ ...r, [drop]: undefined })], expect: [S.INVALID_ARGUMENT] };
    },
    (i) => {
      const r = valid(i);
      const bad = [{ sft: { ...r.sft!, epochs: 0 } }, { repeats: 1e9 }, { sft: { ...r.sft!, learningRate: -1 } }, { sft: { ...r.sft!, lora: { ...r.sft!.lora!, rank: 0 } } }, { baseCheckpoint: { ...r.baseCheckpoint!, sha256: 'not-hex' } }][i % 5]!;
      return { category: 'out of range', messages: [encodeEvaluate({ ...r, ...bad } as pb.EvaluateRequest)], expect: [S.INVALID_ARGUMENT] };
    },
    (i) => {
      const r = valid(i);
      const huge = 'x'.repeat(maxMessageBytes + 1024 + Math.floor(rand() * 4096));
      return { category: 'huge field over the limit', messages: [encodeEvaluate({ ...r, idempotencyKey: huge })], expect: [S.RESOURCE_EXHAUSTED] };
    },
    (i) => {
      const r = valid(i);
      const big = 'Varn '.repeat(Math.floor(maxMessageBytes / 10));
      const kind = r.context!.kind!;
      if (kind.$case !== 'knowledge') throw new Error('load jobs are knowledge contexts');
      const context: pb.Context = { ...r.context!, kind: { $case: 'knowledge', value: { ...kind.value, passage: big } } };
      return { category: 'huge field under the limit', messages: [encodeEvaluate({ ...r, context })], expect: [S.INVALID_ARGUMENT, S.FAILED_PRECONDITION] };
    },
    (i) => {
      // The bad bytes go into a different string field each time, nested ones included.
      const r = valid(i);
      const kind = r.context!.kind!;
      if (kind.$case !== 'knowledge') throw new Error('load jobs are knowledge contexts');
      const spoiled: [pb.EvaluateRequest, string][] = [
        [{ ...r, idempotencyKey: `key-ZQZQZQZQ-${i}` }, 'idempotency_key'],
        [{ ...r, context: { ...r.context!, kind: { $case: 'knowledge', value: { ...kind.value, passage: `ZQZQZQZQ ${kind.value.passage}` } } } }, 'context.knowledge.passage'],
        [{ ...r, selfEdit: { ...r.selfEdit!, completion: `ZQZQZQZQ ${r.selfEdit!.completion}` } }, 'self_edit.completion'],
        [{ ...r, baseCheckpoint: { ...r.baseCheckpoint!, id: `ZQZQZQZQ-${i}` } }, 'base_checkpoint.id'],
      ];
      const [request, field] = spoiled[Math.floor(i / makers.length) % spoiled.length]!;
      return invalidUtf8Case(encodeEvaluate(request), field);
    },
    (i) => ({ category: 'unknown checkpoint', messages: [encodeEvaluate(valid(i))], expect: [S.FAILED_PRECONDITION] }),
    (i) => {
      // The student's own base id with a sha256 it never saw: not the checkpoint it holds.
      const r = toProto.evaluateRequest(evaluateJob(i, { ...base, sha256: hex(rand, 64) }, 'hostile'));
      return { category: 'wrong sha256', messages: [encodeEvaluate(r)], expect: [S.FAILED_PRECONDITION, S.INVALID_ARGUMENT] };
    },
  ];
  return Array.from({ length: count }, (_, i) => makers[i % makers.length]!(i));
}

/** The LoadCheckpoint cases: a stream each. None is a valid, complete checkpoint. */
export function loadCheckpointCases(count: number, maxMessageBytes: number): HostileCase[] {
  const rand = prng(9);
  const enc = (part: pb.LoadCheckpointRequest['part']) => Buffer.from(pb.LoadCheckpointRequest.encode({ part }).finish());
  const bytesOf = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const header = (i: number, data: Buffer, over: Partial<pb.CheckpointRef> = {}) =>
    enc({ $case: 'header', value: { idempotencyKey: `load/h${i}`, sharedPath: '', checkpoint: { id: `hostile-${i}`, sha256: createHash('sha256').update(data).digest('hex'), sizeBytes: data.length, ...over } } });
  const chunk = (offset: number, data: Buffer) => enc({ $case: 'chunk', value: { offset, data } });
  const makers: ((i: number) => HostileCase)[] = [
    () => ({ category: 'garbage bytes', messages: [bytesOf(1 + Math.floor(rand() * 300))], expect: [S.INVALID_ARGUMENT, S.INTERNAL] }),
    () => ({ category: 'empty stream', messages: [], expect: [S.INVALID_ARGUMENT] }),
    (i) => ({ category: 'chunk before header', messages: [chunk(0, bytesOf(64)), header(i, bytesOf(64))], expect: [S.INVALID_ARGUMENT] }),
    (i) => {
      const data = bytesOf(256);
      return { category: 'offset gap', messages: [header(i, data), chunk(0, data.subarray(0, 100)), chunk(150, data.subarray(150))], expect: [S.INVALID_ARGUMENT] };
    },
    (i) => {
      const data = bytesOf(256);
      return { category: 'two headers', messages: [header(i, data), header(i, data), chunk(0, data)], expect: [S.INVALID_ARGUMENT] };
    },
    (i) => {
      const data = bytesOf(256);
      return { category: 'wrong sha256', messages: [header(i, data, { sha256: hex(rand, 64) }), chunk(0, data)], expect: [S.INVALID_ARGUMENT] };
    },
    (i) => {
      const data = bytesOf(256);
      return { category: 'more bytes than declared', messages: [header(i, data, { sizeBytes: 100 }), chunk(0, data)], expect: [S.INVALID_ARGUMENT] };
    },
    (i) => {
      const data = bytesOf(256);
      return { category: 'fewer bytes than declared', messages: [header(i, data, { sizeBytes: 1000 }), chunk(0, data)], expect: [S.INVALID_ARGUMENT] };
    },
    (i) => {
      const data = bytesOf(16);
      return { category: 'huge chunk over the limit', messages: [header(i, data), chunk(0, Buffer.alloc(maxMessageBytes + 1024))], expect: [S.RESOURCE_EXHAUSTED] };
    },
    (i) => {
      const data = bytesOf(64);
      const traversal = ['../../../etc/passwd', '/etc/shadow', 'a/../../..', '..'][i % 4]!;
      return { category: 'shared_path traversal', messages: [enc({ $case: 'header', value: { idempotencyKey: `load/t${i}`, sharedPath: traversal, checkpoint: { id: `t-${i}`, sha256: createHash('sha256').update(data).digest('hex'), sizeBytes: 64 } } })], expect: [S.INVALID_ARGUMENT, S.FAILED_PRECONDITION, S.PERMISSION_DENIED] };
    },
    (i) => {
      const data = bytesOf(64);
      const bytes = Buffer.from(pb.LoadCheckpointRequest.encode({ part: { $case: 'header', value: { idempotencyKey: `load/ZQZQZQZQ${i}`, sharedPath: '', checkpoint: { id: `u-${i}`, sha256: createHash('sha256').update(data).digest('hex'), sizeBytes: 64 } } } }).finish());
      return { ...invalidUtf8Case(bytes, 'header.idempotency_key'), messages: [withInvalidUtf8(bytes, 'ZQZQZQZQ'), chunk(0, data.subarray(0, 32))] };
    },
  ];
  return Array.from({ length: count }, (_, i) => makers[i % makers.length]!(i));
}

/** Info takes an empty message: garbage may decode (unknown fields are legal) or not. */
export function infoCases(count: number, maxMessageBytes: number): HostileCase[] {
  const rand = prng(10);
  return Array.from({ length: count }, (_, i) =>
    i % 10 === 9
      ? { category: 'huge over the limit', messages: [Buffer.alloc(maxMessageBytes + 1024, 0x0a)], expect: [S.RESOURCE_EXHAUSTED] }
      : { category: 'garbage bytes', messages: [Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)))], expect: [S.OK, S.INVALID_ARGUMENT, S.INTERNAL] },
  );
}

// ---------------------------------------------------------------------------------------------
// TeacherService
// ---------------------------------------------------------------------------------------------

const knowledge = (i: number, passage = `Ann Vo was born in Varn (${i}).`): pb.Context => ({
  id: `p${i}`,
  kind: { $case: 'knowledge', value: { title: 'Ann Vo', passage, questions: [] } },
});

/**
 * The GenerateSelfEdits cases. As for Evaluate, every request that would validate names a
 * checkpoint the teacher does not hold, so none starts generation.
 */
export function generateCases(count: number, maxMessageBytes: number): HostileCase[] {
  const rand = prng(11);
  const valid = (i: number): pb.GenerateSelfEditsRequest => ({
    checkpoint: { id: `unknown-${i}`, sha256: hex(rand, 64), sizeBytes: 1 + Math.floor(rand() * 1e6) },
    contexts: [knowledge(i)],
    promptStyle: pb.PromptStyle.IMPLICATIONS,
    n: 2,
    sampling: { temperature: 1, topP: 1, maxNewTokens: 16, stop: [] },
    seed: i,
  });
  const enc = (r: pb.GenerateSelfEditsRequest) => Buffer.from(pb.GenerateSelfEditsRequest.encode(r).finish());
  const makers: ((i: number) => HostileCase)[] = [
    () => ({ category: 'garbage bytes', messages: [Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)))], expect: [S.INVALID_ARGUMENT, S.INTERNAL] }),
    (i) => ({ category: 'wrong wire type', messages: [Buffer.concat([Buffer.from([0x0a, 0x96, 0x01]), enc(valid(i))])], expect: [S.INVALID_ARGUMENT] }),
    (i) => {
      const drop = (['checkpoint', 'contexts', 'sampling', 'promptStyle'] as const)[i % 4]!;
      const empty = { checkpoint: undefined, contexts: [], sampling: undefined, promptStyle: pb.PromptStyle.UNSPECIFIED }[drop];
      return { category: 'missing field', messages: [enc({ ...valid(i), [drop]: empty })], expect: [S.INVALID_ARGUMENT] };
    },
    (i) => {
      const r = valid(i);
      const bad = [{ n: 0 }, { sampling: { ...r.sampling!, temperature: -1 } }, { sampling: { ...r.sampling!, topP: 2 } }, { contexts: [knowledge(i), knowledge(i)] }, { checkpoint: { ...r.checkpoint!, sha256: 'zz' } }][i % 5]!;
      return { category: 'out of range', messages: [enc({ ...r, ...bad })], expect: [S.INVALID_ARGUMENT] };
    },
    (i) => ({ category: 'huge field over the limit', messages: [enc({ ...valid(i), contexts: [knowledge(i, 'x'.repeat(maxMessageBytes + 1024))] })], expect: [S.RESOURCE_EXHAUSTED] }),
    (i) => ({ category: 'huge field under the limit', messages: [enc({ ...valid(i), contexts: [knowledge(i, 'Varn '.repeat(Math.floor(maxMessageBytes / 10)))] })], expect: [S.INVALID_ARGUMENT, S.FAILED_PRECONDITION] }),
    (i) => {
      const r = valid(i);
      const spoiled: [pb.GenerateSelfEditsRequest, string][] = [
        [{ ...r, contexts: [knowledge(i), knowledge(i + 1, 'ZQZQZQZQ')] }, 'contexts[1].knowledge.passage'],
        [{ ...r, checkpoint: { ...r.checkpoint!, id: `ZQZQZQZQ-${i}` } }, 'checkpoint.id'],
        [{ ...r, contexts: [{ ...knowledge(i), id: `ZQZQZQZQ${i}` }] }, 'contexts[0].id'],
      ];
      const [request, field] = spoiled[Math.floor(i / makers.length) % spoiled.length]!;
      return invalidUtf8Case(enc(request), field);
    },
    (i) => ({ category: 'unknown checkpoint', messages: [enc(valid(i))], expect: [S.FAILED_PRECONDITION] }),
  ];
  return Array.from({ length: count }, (_, i) => makers[i % makers.length]!(i));
}

/** The Update cases: every request that would validate starts from a checkpoint the teacher does not hold. */
export function updateCases(count: number, maxMessageBytes: number): HostileCase[] {
  const rand = prng(12);
  const valid = (i: number): pb.UpdateRequest =>
    toProtoUpdate(i, { id: `unknown-${i}`, sha256: hex(rand, 64), sizeBytes: 1 + Math.floor(rand() * 1e6) });
  const enc = (r: pb.UpdateRequest) => Buffer.from(pb.UpdateRequest.encode(r).finish());
  const makers: ((i: number) => HostileCase)[] = [
    () => ({ category: 'garbage bytes', messages: [Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)))], expect: [S.INVALID_ARGUMENT, S.INTERNAL] }),
    (i) => ({ category: 'wrong wire type', messages: [Buffer.concat([Buffer.from([0x08, 0x96, 0x01]), enc({ ...valid(i), idempotencyKey: '' })])], expect: [S.INVALID_ARGUMENT] }),
    (i) => {
      const drop = (['baseCheckpoint', 'pairs', 'sft', 'idempotencyKey'] as const)[i % 4]!;
      const empty = { baseCheckpoint: undefined, pairs: [], sft: undefined, idempotencyKey: '' }[drop];
      return { category: 'missing field', messages: [enc({ ...valid(i), [drop]: empty })], expect: [S.INVALID_ARGUMENT] };
    },
    (i) => {
      const r = valid(i);
      const bad = [{ sft: { ...r.sft!, epochs: 0 } }, { sft: { ...r.sft!, learningRate: -1 } }, { sft: { ...r.sft!, lora: { ...r.sft!.lora!, rank: 0 } } }, { pairs: [{ prompt: 'p', completion: '' }] }, { baseCheckpoint: { ...r.baseCheckpoint!, sizeBytes: 0 } }][i % 5]!;
      return { category: 'out of range', messages: [enc({ ...r, ...bad } as pb.UpdateRequest)], expect: [S.INVALID_ARGUMENT] };
    },
    (i) => ({ category: 'huge field over the limit', messages: [enc({ ...valid(i), pairs: [{ prompt: 'p', completion: 'x'.repeat(maxMessageBytes + 1024) }] })], expect: [S.RESOURCE_EXHAUSTED] }),
    (i) => {
      const r = valid(i);
      const spoiled: [pb.UpdateRequest, string][] = [
        [{ ...r, pairs: [...r.pairs, { prompt: 'p', completion: 'ZQZQZQZQ' }] }, `pairs[${r.pairs.length}].completion`],
        [{ ...r, idempotencyKey: `u/ZQZQZQZQ/${i}` }, 'idempotency_key'],
        [{ ...r, pairs: [{ prompt: 'ZQZQZQZQ', completion: 'c' }] }, 'pairs[0].prompt'],
      ];
      const [request, field] = spoiled[Math.floor(i / makers.length) % spoiled.length]!;
      return invalidUtf8Case(enc(request), field);
    },
    (i) => ({ category: 'unknown checkpoint', messages: [enc(valid(i))], expect: [S.FAILED_PRECONDITION] }),
  ];
  return Array.from({ length: count }, (_, i) => makers[i % makers.length]!(i));
}

function toProtoUpdate(i: number, base: pb.CheckpointRef): pb.UpdateRequest {
  return toProto.updateRequest({
    idempotencyKey: `hostile/u${i}`,
    baseCheckpoint: { id: base.id, sha256: base.sha256, size: base.sizeBytes },
    pairs: [{ prompt: 'Ann Vo was born in Varn.', completion: 'Ann Vo is from Varn.' }],
    sft: { rank: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj'], lr: 1e-3, epochs: 1, batchSize: 1, schedule: 'constant', warmup: 0, lossMask: 'completion' },
    merge: true,
    seed: i,
  });
}

/** The GetCheckpoint cases: no request names a checkpoint the teacher holds, and ids try to escape its store. */
export function getCheckpointCases(count: number, maxMessageBytes: number): HostileCase[] {
  const rand = prng(13);
  const enc = (checkpointId: string, maxChunkBytes = 0) => Buffer.from(pb.GetCheckpointRequest.encode({ checkpointId, maxChunkBytes }).finish());
  const makers: ((i: number) => HostileCase)[] = [
    () => ({ category: 'garbage bytes', messages: [Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)))], expect: [S.INVALID_ARGUMENT, S.INTERNAL] }),
    () => ({ category: 'missing field', messages: [enc('')], expect: [S.INVALID_ARGUMENT] }),
    (i) => ({ category: 'huge field over the limit', messages: [enc('x'.repeat(maxMessageBytes + 1024 + i))], expect: [S.RESOURCE_EXHAUSTED] }),
    (i) => {
      const traversal = ['../../../etc/passwd', '/etc/shadow', 'a/../../..', '..', 'ckpt-\u0000'][i % 5]!;
      return { category: 'id traversal', messages: [enc(traversal)], expect: [S.INVALID_ARGUMENT, S.NOT_FOUND] };
    },
    (i) => invalidUtf8Case(enc(`ckpt-ZQZQZQZQ-${i}`), 'checkpoint_id'),
    (i) => ({ category: 'unknown checkpoint', messages: [enc(`ckpt-${hex(rand, 12)}`, i)], expect: [S.NOT_FOUND] }),
  ];
  return Array.from({ length: count }, (_, i) => makers[i % makers.length]!(i));
}

// ---------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------

interface Answer {
  code: Code;
  details: string;
  /** EvaluateStream: the per-item status codes the stream answered with. */
  itemCodes?: Code[];
}

function unary(client: grpc.Client, path: string, message: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, message, { deadline: Date.now() + 30_000 }, (error) => resolve(error ? { code: error.code, details: error.details } : { code: S.OK, details: '' }));
  });
}

function clientStream(client: grpc.Client, path: string, messages: Buffer[]): Promise<Answer> {
  return new Promise((resolve) => {
    const call = client.makeClientStreamRequest(path, identity, identity, { deadline: Date.now() + 30_000 }, (error) => resolve(error ? { code: error.code, details: error.details } : { code: S.OK, details: '' }));
    for (const m of messages) call.write(m);
    call.end();
  });
}

function serverStream(client: grpc.Client, path: string, message: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const call = client.makeServerStreamRequest(path, identity, identity, message, { deadline: Date.now() + 30_000 });
    call.on('data', () => {});
    call.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details }));
    call.on('end', () => resolve({ code: S.OK, details: '' }));
  });
}

function bidi(client: grpc.Client, path: string, messages: Buffer[]): Promise<Answer> {
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest(path, identity, identity, { deadline: Date.now() + 60_000 });
    const itemCodes: Code[] = [];
    call.on('data', (b: Buffer) => {
      const r = pb.EvaluateStreamResponse.decode(b);
      itemCodes.push(r.outcome?.$case === 'error' ? (r.outcome.value.statusCode as Code) : S.OK);
    });
    call.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details, itemCodes }));
    call.on('end', () => resolve({ code: S.OK, details: '', itemCodes }));
    for (const m of messages) call.write(m);
    call.end();
  });
}

function tally(rpc: string, cases: HostileCase[], answers: { code: Code; details: string }[]): HostileTally {
  const result: HostileTally = { rpc, cases: cases.length, categories: {}, wrong: [] };
  cases.forEach((c, i) => {
    const { code, details } = answers[i]!;
    const entry = (result.categories[c.category] ??= { count: 0, codes: {}, wrong: 0 });
    entry.count++;
    entry.codes[S[code]] = (entry.codes[S[code]] ?? 0) + 1;
    if (!c.expect.includes(code) || (c.details && !c.details.test(details))) {
      entry.wrong++;
      result.wrong.push({ category: c.category, code: S[code], details: details.slice(0, 160) });
    }
  });
  return result;
}

/** Sends `cases` a few at a time (the target is a real process on shared cores). */
async function sendAll<T>(cases: HostileCase[], send: (c: HostileCase) => Promise<T>, parallel = 8): Promise<T[]> {
  const out: T[] = new Array(cases.length);
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    for (let i = next++; i < cases.length; i = next++) out[i] = await send(cases[i]!);
  }));
  return out;
}

export async function runHostile(address: string, base: CheckpointRef, count: number, maxMessageBytes: number): Promise<HostileTally[]> {
  // The client may send more than the server accepts: the limit under test is the server's.
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 });
  const service = '/seal.v1.StudentService/';
  try {
    const evaluate = evaluateCases(count, base, maxMessageBytes);
    const tallies = [tally('Evaluate', evaluate, await sendAll(evaluate, (c) => unary(client, `${service}Evaluate`, c.messages[0]!)))];

    // EvaluateStream: each case's message as one stream item, wrapped in EvaluateStreamRequest
    // (field 1). An item that fails alone is answered in-stream; one the transport rejects
    // (undecodable, oversized) ends its stream with that status instead.
    const streamCases = evaluateCases(count, base, maxMessageBytes).map((c) => ({
      ...c,
      messages: c.messages.map(wrapStreamItem),
      // the item is the stream request's `request` field: the field path starts there
      details: c.details && new RegExp(c.details.source.replace(/^\^/, '^request\\.')),
    }));
    const streamAnswers = await sendAll(streamCases, (c) => bidi(client, `${service}EvaluateStream`, c.messages));
    tallies.push(tally('EvaluateStream', streamCases, streamAnswers.map((a) => (a.code === S.OK && a.itemCodes!.length === 1 ? { code: a.itemCodes![0]!, details: 'in-stream' } : a))));

    const loads = loadCheckpointCases(count, maxMessageBytes);
    tallies.push(tally('LoadCheckpoint', loads, await sendAll(loads, (c) => clientStream(client, `${service}LoadCheckpoint`, c.messages))));

    const infos = infoCases(count, maxMessageBytes);
    tallies.push(tally('Info', infos, await sendAll(infos, (c) => unary(client, `${service}Info`, c.messages[0]!))));
    return tallies;
  } finally {
    client.close();
  }
}

/** The same against a live TeacherService; `maxMessageBytes` is its limit. */
export async function runHostileTeacher(address: string, count: number, maxMessageBytes: number): Promise<HostileTally[]> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 });
  const service = '/seal.v1.TeacherService/';
  try {
    const generate = generateCases(count, maxMessageBytes);
    const tallies = [tally('Teacher.GenerateSelfEdits', generate, await sendAll(generate, (c) => serverStream(client, `${service}GenerateSelfEdits`, c.messages[0]!)))];
    const updates = updateCases(count, maxMessageBytes);
    tallies.push(tally('Teacher.Update', updates, await sendAll(updates, (c) => unary(client, `${service}Update`, c.messages[0]!))));
    const gets = getCheckpointCases(count, maxMessageBytes);
    tallies.push(tally('Teacher.GetCheckpoint', gets, await sendAll(gets, (c) => serverStream(client, `${service}GetCheckpoint`, c.messages[0]!))));
    // Same wire shape as the student's LoadCheckpoint; the teacher refuses shared paths outright.
    const loads = loadCheckpointCases(count, maxMessageBytes);
    tallies.push(tally('Teacher.LoadCheckpoint', loads, await sendAll(loads, (c) => clientStream(client, `${service}LoadCheckpoint`, c.messages))));
    const infos = infoCases(count, maxMessageBytes);
    tallies.push(tally('Teacher.Info', infos, await sendAll(infos, (c) => unary(client, `${service}Info`, c.messages[0]!))));
    return tallies;
  } finally {
    client.close();
  }
}

/** Field 1 (length-delimited) of EvaluateStreamRequest around raw EvaluateRequest bytes. */
function wrapStreamItem(inner: Buffer): Buffer {
  const length: number[] = [];
  let n = inner.length;
  do {
    length.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x0a, ...length]), inner]);
}
