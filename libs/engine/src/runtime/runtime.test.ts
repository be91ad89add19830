/** @file Runtime: sessions run off the main thread, are cached by structure, validate feeds, name missing providers, and start under tsx. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostTensor } from '../ir/dtype';
import { input } from '../frontend/tensor';
import { Rng } from '../random';
import '../testing/all-close';
import { availableProviders, ProviderUnavailableError } from './providers';
import { createRuntime, type Runtime } from './runtime';

let rt: Runtime;
beforeAll(() => {
  rt = createRuntime({ intraOpThreads: 1 });
});
afterAll(async () => {
  await rt.release();
});

describe('worker execution', () => {
  it('a long session.run does not block the event loop', async () => {
    // A chain of 256×256 matmuls: tens of milliseconds of ORT work in the worker.
    const x = input('x', [256, 256]);
    let y = x;
    for (let i = 0; i < 40; i++) y = y.matmul(x).mul(1 / 256);
    const g = await rt.compile({ y });
    const feed = { x: new Rng(1).normalTensor([256, 256]) };
    await g.run(feed); // warm up
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    await g.run(feed);
    const ms = performance.now() - t0;
    clearInterval(timer);
    expect(ms).toBeGreaterThan(10);
    expect(ticks).toBeGreaterThan(ms / 10); // timers kept firing while the worker ran
  });

  it('caches sessions by graph structure, not object identity', async () => {
    const build = () => input('a', [2]).mul(input('b', [2])).add(1);
    const [g1, g2] = [await rt.compile({ out: build() }), await rt.compile({ out: build() })];
    expect(g1).toBe(g2);
    expect((await g1.run({ a: hostTensor('float32', [2], [1, 2]), b: hostTensor('float32', [2], [3, 4]) })).out).toBeAllClose([4, 9]);
    await g1.release();
    // Still alive: g2 holds a reference.
    expect((await g2.run({ a: hostTensor('float32', [2], [1, 1]), b: hostTensor('float32', [2], [1, 1]) })).out).toBeAllClose([2, 2]);
    await g2.release();
  });
});

describe('profiling', () => {
  it('writes one ORT per-operator profile per session: at release, and at runtime end for sessions still open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ort-profile-'));
    try {
      const profiled = createRuntime({ profile: join(dir, 'run') });
      const a = await profiled.compile({ y: input('x', [3]).mul(2) });
      const b = await profiled.compile({ y: input('x', [3]).add(1) });
      const feed = { x: hostTensor('float32', [3], [1, 2, 3]) };
      expect((await a.run(feed)).y).toBeAllClose([2, 4, 6]);
      await b.run(feed);
      await a.release(); // a's profile is written now
      await profiled.release(); // b is still open: its profile is written by the runtime's end
      const files = readdirSync(dir);
      expect(files).toHaveLength(2);
      for (const f of files) {
        expect(f).toMatch(/^run_.*\.json$/);
        const events = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { cat?: string; name: string; args?: { op_name?: string } }[];
        expect(events.some((e) => e.name === 'model_run')).toBe(true);
        expect(events.some((e) => e.cat === 'Node' && (e.args?.op_name === 'Mul' || e.args?.op_name === 'Add'))).toBe(true);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('several workers', () => {
  it('concurrent runs of one graph spread over the pool (the session is loaded where needed) with correct results', async () => {
    const two = createRuntime({ workers: 2, intraOpThreads: 1 });
    try {
      const x = input('x', [128, 128]);
      let y = x;
      for (let i = 0; i < 20; i++) y = y.matmul(x).mul(1 / 128);
      const g = await two.compile({ y: y.sum() });
      expect(g.replicaCount).toBe(1);
      const feeds = [1, 2, 3, 4].map((s) => ({ x: new Rng(s).normalTensor([128, 128]) }));
      const alone = [];
      for (const f of feeds) alone.push((await g.run(f)).y.data[0]); // one at a time: one replica suffices
      expect(g.replicaCount).toBe(1);
      const together = await Promise.all(feeds.map((f) => g.run(f)));
      expect(g.replicaCount).toBe(2);
      expect(together.map((o) => o.y.data[0])).toEqual(alone); // same bits whichever worker ran it
      await g.release();
    } finally {
      await two.release();
    }
  });
});

describe('weights and views', () => {
  it('a feed that is a view into a larger buffer sends only its own bytes and computes on them', async () => {
    const big = new Float32Array(1000).map((_, i) => i);
    const view = big.subarray(10, 12);
    const g = await rt.compile({ y: input('x', [2]).mul(2) });
    expect((await g.run({ x: { dtype: 'float32', shape: [2], data: view } })).y).toBeAllClose([20, 22]);
  });

  it('uploadWeights with move hands the buffers over (no second copy) and the weights still serve runs', async () => {
    const w = hostTensor('float32', [2], [3, 4]);
    const { w: ref } = await rt.uploadWeights({ w }, { move: true });
    expect(w.data.length).toBe(0); // detached: now owned by the worker
    const g = await rt.compile({ y: input('x', [2]).mul(input('w', [2])) });
    expect((await g.run({ x: hostTensor('float32', [2], [1, 2]), w: ref })).y).toBeAllClose([3, 8]);
    await rt.dropWeights([ref]);
  });
});

describe('constants (pre-packed initializers)', () => {
  it('inputs named as constants are baked in, no longer fed, and cached by the identity of their data', async () => {
    const build = () => ({ y: input('x', [1, 2]).matmul(input('w', [2, 2])).add(input('b', [2])) });
    const w = hostTensor('float32', [2, 2], [1, 2, 3, 4]);
    const g = await rt.compile(build(), { constants: { w } });
    expect(g.inputs.map((i) => i.name).sort()).toEqual(['b', 'x']);
    expect((await g.run({ x: hostTensor('float32', [1, 2], [1, 1]), b: hostTensor('float32', [2], [10, 20]) })).y).toBeAllClose([14, 26]);
    expect(await rt.compile(build(), { constants: { w } })).toBe(g); // same arrays: same session
    const other = await rt.compile(build(), { constants: { w: hostTensor('float32', [2, 2], [0, 0, 0, 1]) } });
    expect(other).not.toBe(g);
    expect((await other.run({ x: hostTensor('float32', [1, 2], [1, 1]), b: hostTensor('float32', [2], [0, 0]) })).y).toBeAllClose([0, 1]);
    await Promise.all([g.release(), g.release(), other.release()]);
  });

  it('a constant that is not an input, or has the wrong dtype or shape, is named', async () => {
    const y = input('x', [2]).mul(input('w', [2]));
    await expect(rt.compile({ y }, { constants: { v: hostTensor('float32', [2]) } })).rejects.toThrow(/constant 'v' is not an input/);
    await expect(rt.compile({ y }, { constants: { w: hostTensor('float64', [2]) } })).rejects.toThrow(/constant 'w' is float64, graph wants float32/);
    await expect(rt.compile({ y }, { constants: { w: hostTensor('float32', [3]) } })).rejects.toThrow(/constant 'w' has shape \[3\], graph wants \[2\]/);
  });
});

describe('shared sessions', () => {
  it('a graph compiled again while its last holder releases it stays usable by the new holder', async () => {
    // Two models of one architecture share structurally equal graphs; a student releases an old
    // model while the new one compiles (in-process-student.ts).
    const build = () => ({ y: input('x', [2]).mul(3) });
    const a = await rt.compile(build());
    const pending = rt.compile(build()); // counted now, before it settles
    await a.release();
    const b = await pending;
    expect((await b.run({ x: hostTensor('float32', [2], [1, 2]) })).y).toBeAllClose([3, 6]);
    await b.release();
    await expect(b.run({ x: hostTensor('float32', [2], [1, 2]) })).rejects.toThrow(/was released/);
  });
});

describe('bounded spinning (CompileOptions.spinMicros)', () => {
  it('is part of the session key, computes the same, and rejects a value that is not a whole number of µs', async () => {
    const spinning = createRuntime({ intraOpThreads: 2 });
    try {
      const build = () => ({ y: input('x', [64, 64]).matmul(input('x', [64, 64])) });
      const x = hostTensor('float32', [64, 64], Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 7) - 3));
      const sleeping = await spinning.compile(build());
      const spun = await spinning.compile(build(), { spinMicros: 1000 });
      expect(spun).not.toBe(sleeping);
      expect(await spinning.compile(build(), { spinMicros: 1000 })).toBe(spun);
      expect((await spun.run({ x })).y.data).toEqual((await sleeping.run({ x })).y.data);
      await expect(spinning.compile(build(), { spinMicros: -1 })).rejects.toThrow(/spinMicros must be a non-negative integer, got -1/);
      await expect(spinning.compile(build(), { spinMicros: 0.5 })).rejects.toThrow(/spinMicros/);
    } finally {
      await spinning.release();
    }
  });
});

describe('allocated tensors and writeInto', () => {
  it('outputs written into an allocated tensor at an offset stay in the worker and feed later runs', async () => {
    const { cache } = await rt.allocate({ cache: { dtype: 'float32', shape: [2, 4, 3] } });
    // step: the new rows (2, T, 3) go into the cache along axis 1; `seen` reads the whole cache back.
    const step = await rt.compile({ rows: input('x', [2, 'T', 3]).mul(2), total: input('x', [2, 'T', 3]).sum() });
    const seen = await rt.compile({ all: input('c', [2, 4, 3]).add(0) });
    const x1 = hostTensor('float32', [2, 1, 3], [1, 2, 3, 4, 5, 6]);
    const out = await step.run({ x: x1 }, { writeInto: { rows: { target: cache, axis: 1, offset: 0 } } });
    expect(Object.keys(out)).toEqual(['total']); // written outputs do not come back
    const x2 = hostTensor('float32', [2, 2, 3], [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
    await step.run({ x: x2 }, { writeInto: { rows: { target: cache, axis: 1, offset: 1 } } });
    expect((await seen.run({ c: cache })).all).toBeAllClose([
      2, 4, 6, 14, 16, 18, 20, 22, 24, 0, 0, 0,
      8, 10, 12, 26, 28, 30, 32, 34, 36, 0, 0, 0,
    ]);
    await expect(step.run({ x: x2 }, { writeInto: { rows: { target: cache, axis: 1, offset: 3 } } })).rejects.toThrow(/does not fit target \[2, 4, 3\] at offset 3/);
    await expect(step.run({ x: x1 }, { writeInto: { nope: { target: cache, axis: 1, offset: 0 } } })).rejects.toThrow(/'nope', which is not an output/);
    await rt.dropWeights({ cache });
    await expect(seen.run({ c: cache })).rejects.toThrow(/were not uploaded or were dropped/);
  });

  it('grow keeps the contents, zero-fills the new room, and refuses to shrink', async () => {
    const { c } = await rt.allocate({ c: { dtype: 'float32', shape: [2, 2] } });
    const step = await rt.compile({ rows: input('x', [2, 1]).add(0) });
    await step.run({ x: hostTensor('float32', [2, 1], [1, 2]) }, { writeInto: { rows: { target: c, axis: 1, offset: 0 } } });
    const { c: bigger } = await rt.grow({ c }, 1, 3);
    expect(bigger.shape).toEqual([2, 3]);
    await step.run({ x: hostTensor('float32', [2, 1], [5, 6]) }, { writeInto: { rows: { target: bigger, axis: 1, offset: 2 } } });
    const read = await rt.compile({ all: input('c', [2, 3]).add(0) });
    expect((await read.run({ c: bigger })).all).toBeAllClose([1, 0, 5, 2, 0, 6]);
    await expect(read.run({ c: { ...c, shape: [2, 3] } })).rejects.toThrow(/were not uploaded or were dropped/);
    await expect(rt.grow({ bigger }, 1, 2)).rejects.toThrow(/cannot shrink from 3 to 2/);
    await rt.dropWeights({ bigger });
  });

  it('with several workers, runs feeding an allocated tensor go to the worker that holds it', async () => {
    const two = createRuntime({ workers: 2, intraOpThreads: 1 });
    try {
      const step = await two.compile({ rows: input('x', [1, 1]).add(1) });
      const read = await two.compile({ all: input('c', [1, 4]).add(0) });
      // Two allocations spread over the two workers (each counts as load), so `step` must load there too.
      const states = await Promise.all([0, 1].map(() => two.allocate({ c: { dtype: 'float32', shape: [1, 4] } })));
      // Interleaved writes from two "generations" at once: each lands in its own tensor.
      await Promise.all(states.flatMap(({ c }, s) => [0, 1, 2, 3].map((i) =>
        step.run({ x: hostTensor('float32', [1, 1], [10 * s + i]) }, { writeInto: { rows: { target: c, axis: 1, offset: i } } }))));
      expect((await read.run({ c: states[0].c })).all).toBeAllClose([1, 2, 3, 4]);
      expect((await read.run({ c: states[1].c })).all).toBeAllClose([11, 12, 13, 14]);
      expect(step.replicaCount).toBe(2);
    } finally {
      await two.release();
    }
  });
});

describe('programs in the worker (runProgram)', () => {
  it('runs a TypeScript module next to an allocated tensor: dependent runs, writes and in-place growth all stay in that worker', async () => {
    const { row } = await rt.allocate({ row: { dtype: 'float32', shape: [1, 2] } });
    const inc = await rt.compile({ next: input('x', [1, 1]).add(1), row: input('x', [1, 1]).add(1) });
    const program = new URL('./fixtures/count-program.ts', import.meta.url);
    const out = await rt.runProgram<{ last: number; shape: number[] }>(program, { n: 5, ref: row.ref }, { graphs: { inc }, near: row });
    expect(out).toEqual({ last: 5, shape: [1, 6] });
    // The program grew the tensor under the same ref: a run on the main side sees every value.
    const read = await rt.compile({ all: input('c', [1, 6]).add(0) });
    expect((await read.run({ c: { ...row, shape: out.shape } })).all).toBeAllClose([1, 2, 3, 4, 5, 0]);
    await rt.dropWeights({ row });
  });

  it('names what is wrong: a graph it was not given, a tensor shrunk, a module without a default export, a tensor not allocated', async () => {
    const { row } = await rt.allocate({ row: { dtype: 'float32', shape: [1, 8] } });
    const other = await rt.compile({ y: input('x', [1, 1]).mul(3) });
    const program = new URL('./fixtures/count-program.ts', import.meta.url);
    await expect(rt.runProgram(program, { n: 1, ref: row.ref }, { graphs: { other }, near: row })).rejects.toThrow(/no graph named 'inc' \(given: other\)/);
    await expect(rt.runProgram(program, { n: 1, ref: row.ref, shrinkTo: 4 }, { graphs: {}, near: row })).rejects.toThrow(/cannot shrink from 8 to 4 on axis 1/);
    await expect(rt.runProgram(new URL('./fixtures/no-default-program.mjs', import.meta.url), {}, { graphs: {}, near: row })).rejects.toThrow(/has no default export function/);
    const [uploaded] = Object.values(await rt.uploadWeights({ w: hostTensor('float32', [1], [1]) }));
    await expect(rt.runProgram(program, {}, { graphs: {}, near: uploaded })).rejects.toThrow(/was not made by runtime.allocate/);
    await rt.dropWeights({ row });
  });
});

describe('cancellation and failures', () => {
  it('an aborted signal rejects before sending, and an abort mid-run hands control back at once', async () => {
    const x = input('x', [256, 256]);
    let y = x;
    for (let i = 0; i < 60; i++) y = y.matmul(x).mul(1 / 256);
    const g = await rt.compile({ y });
    const feed = { x: new Rng(2).normalTensor([256, 256]) };
    await expect(g.run(feed, { signal: AbortSignal.abort(new Error('too late')) })).rejects.toThrow('too late');
    const ctl = new AbortController();
    const running = g.run(feed, { signal: ctl.signal });
    ctl.abort(new Error('cancelled by caller'));
    await expect(running).rejects.toThrow('cancelled by caller');
    // The worker is still healthy afterwards.
    expect((await g.run(feed)).y.shape).toEqual([256, 256]);
  });

  it('a dead worker fails requests instead of hanging', async () => {
    const own = createRuntime({ intraOpThreads: 1 });
    const g = await own.compile({ y: input('x', [1]).add(1) });
    await own.release(); // terminates the worker
    await expect(g.run({ x: hostTensor('float32', [1], [1]) })).rejects.toThrow(/session worker exited/);
  });
});

describe('feed validation', () => {
  it('names the input on a missing feed, wrong dtype, wrong shape or inconsistent symbolic dim', async () => {
    const g = await rt.compile({ y: input('x', ['N', 2]).add(input('z', ['N', 1])) });
    const x = hostTensor('float32', [3, 2]);
    await expect(g.run({ x })).rejects.toThrow(/missing feed 'z'/);
    await expect(g.run({ x, z: hostTensor('float64', [3, 1]) })).rejects.toThrow(/feed 'z' is float64, graph wants float32/);
    await expect(g.run({ x: hostTensor('float32', [3, 3]), z: hostTensor('float32', [3, 1]) })).rejects.toThrow(/feed 'x' has shape \[3, 3\]/);
    await expect(g.run({ x, z: hostTensor('float32', [4, 1]) })).rejects.toThrow(/symbolic dim 'N' is 3 elsewhere but 4 in feed 'z'/);
  });

  it('rejects SharedArrayBuffer feeds with a pointer to uploadWeights (onnxruntime-node refuses them)', async () => {
    const g = await rt.compile({ y: input('x', [2]).mul(2) });
    const data = new Float32Array(new SharedArrayBuffer(8));
    await expect(g.run({ x: { dtype: 'float32', shape: [2], data } })).rejects.toThrow(/uploadWeights/);
  });
});

describe('execution providers', () => {
  it('cpu is always there', () => {
    expect(availableProviders()).toContain('cpu');
  });

  it('cuda without its binaries is a clear error naming what is missing', () => {
    if (availableProviders().includes('cuda')) return; // a CUDA install: nothing missing to report
    expect(() => createRuntime({ provider: 'cuda' })).toThrow(ProviderUnavailableError);
    expect(() => createRuntime({ provider: 'cuda' })).toThrow(/'cuda' is missing: .*CUDA binaries/);
  });

  it('an unknown provider is named', () => {
    expect(() => createRuntime({ provider: 'tpu' as never })).toThrow(/unknown execution provider 'tpu'/);
  });

  it('webgpu either runs or fails naming what it needs', async () => {
    const gpu = createRuntime({ provider: 'webgpu' });
    try {
      const g = await gpu.compile({ y: input('x', [2]).mul(2) });
      expect((await g.run({ x: hostTensor('float32', [2], [1, 2]) })).y).toBeAllClose([2, 4]);
    } catch (e) {
      expect(e).toBeInstanceOf(ProviderUnavailableError);
      expect((e as Error).message).toMatch(/'webgpu' failed to start, needs a Vulkan-capable GPU/);
    } finally {
      await gpu.release();
    }
  });
});

describe('processes', () => {
  it('the worker starts when the parent runs under tsx', () => {
    const script = fileURLToPath(new URL('./fixtures/tsx-smoke.ts', import.meta.url));
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    expect(out.trim()).toBe('6,8');
  });
});
