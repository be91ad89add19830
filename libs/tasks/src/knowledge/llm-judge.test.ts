/** @file Tests for the LLM judge against a local fake OpenAI-compatible server (node:http on 127.0.0.1:0). */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLlmJudge, LlmJudgeError, parseYesNo } from './llm-judge';

interface Seen {
  path: string;
  authorization?: string;
  body: { model: string; messages: { role: string; content: string }[]; temperature: number };
}

/** What the fake server does next: a queue of canned failures, then a real "grading". */
let failures: { status: number; body: string }[] = [];
let seen: Seen[] = [];
let server: Server;
let baseUrl: string;

function fakeGrade(request: IncomingMessage, response: ServerResponse, raw: string) {
  const body = JSON.parse(raw) as Seen['body'];
  seen.push({ path: request.url ?? '', authorization: request.headers.authorization, body });
  const failure = failures.shift();
  if (failure) {
    response.writeHead(failure.status, { 'content-type': 'application/json' }).end(failure.body);
    return;
  }
  // Grade like a strict judge: the student answer must repeat the gold answer.
  const prompt = body.messages[0]!.content;
  const gold = /Gold answer: (.*)\n/.exec(prompt)![1]!;
  const student = /Student answer: (.*)\n/.exec(prompt)![1]!;
  const content = student.toLowerCase().includes(gold.toLowerCase()) ? 'Yes.' : 'No';
  response.writeHead(200, { 'content-type': 'application/json' }).end(
    JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content } }] }),
  );
}

beforeAll(async () => {
  server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    request.on('end', () => fakeGrade(request, response, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  failures = [];
  seen = [];
});

const items = [
  { question: 'Topic: Ada Lovel\nIn which country was Ada Lovel born?', gold: 'Kelland', prediction: 'Kelland' },
  { question: 'Topic: Ada Lovel\nIn which industry does Ada Lovel work?', gold: 'mining', prediction: 'shipping' },
  { question: 'Topic: Ada Lovel\nIn which decade was Ada Lovel born?', gold: '1980s', prediction: '   ' },
];

describe('SEAL yes/no rule', () => {
  it('yes only when the reply says yes and not no', () => {
    expect(parseYesNo('Yes')).toBe(true);
    expect(parseYesNo('yes.')).toBe(true);
    expect(parseYesNo('No')).toBe(false);
    expect(parseYesNo('yes and no')).toBe(false);
    expect(parseYesNo('Yesterday')).toBe(false);
    expect(parseYesNo('')).toBe(false);
  });
});

describe('createLlmJudge over HTTP', () => {
  it('sends SEAL’s prompt to /chat/completions and parses the verdicts; empty answers skip the call', async () => {
    const judge = createLlmJudge({ baseUrl, model: 'gpt-4.1', apiKey: 'sk-test', backoffMs: () => 1 });
    expect(await judge.grade(items)).toEqual([true, false, false]);
    expect(seen).toHaveLength(2);
    expect(seen[0]!.path).toBe('/v1/chat/completions');
    expect(seen[0]!.authorization).toBe('Bearer sk-test');
    expect(seen[0]!.body.model).toBe('gpt-4.1');
    expect(seen[0]!.body.temperature).toBe(0);
    expect(seen[0]!.body.messages[0]!.content).toMatch(/^You are a grading assistant\./);
    expect(seen[0]!.body.messages[0]!.content).toContain('Question: Topic: Ada Lovel\nIn which country was Ada Lovel born?\nGold answer: Kelland\n');
  });

  it('retries 5xx and 429 with backoff, then succeeds', async () => {
    failures = [
      { status: 500, body: 'boom' },
      { status: 503, body: 'busy' },
      { status: 429, body: 'slow down' },
    ];
    const delays: number[] = [];
    const judge = createLlmJudge({ baseUrl, model: 'm', backoffMs: (retry) => (delays.push(retry), 1), concurrency: 1 });
    expect(await judge.grade(items.slice(0, 1))).toEqual([true]);
    expect(seen).toHaveLength(4);
    expect(delays).toEqual([1, 2, 3]);
  });

  it('gives up after the retries with an error naming the endpoint, the item and the status', async () => {
    failures = Array.from({ length: 4 }, () => ({ status: 502, body: 'bad gateway' }));
    const judge = createLlmJudge({ baseUrl, model: 'm', retries: 3, backoffMs: () => 1 });
    await expect(judge.grade(items.slice(0, 1))).rejects.toThrow(
      /LLM judge http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: item 0 \(question .*country.*\): HTTP 502: bad gateway; gave up after 4 attempts/,
    );
    expect(seen).toHaveLength(4);
  });

  it('does not retry a 4xx, and says why', async () => {
    failures = [{ status: 401, body: '{"error":"invalid api key"}' }];
    const judge = createLlmJudge({ baseUrl, model: 'm', backoffMs: () => 1 });
    await expect(judge.grade(items.slice(0, 1))).rejects.toThrow(/HTTP 401: \{"error":"invalid api key"\}/);
    expect(seen).toHaveLength(1);
  });

  it('a garbage reply is a clear error, not a silent "no"', async () => {
    failures = [{ status: 200, body: '<html>proxy login</html>' }];
    const judge = createLlmJudge({ baseUrl, model: 'm', backoffMs: () => 1 });
    await expect(judge.grade(items.slice(0, 1))).rejects.toThrow(LlmJudgeError);
    failures = [{ status: 200, body: '<html>proxy login</html>' }];
    await expect(judge.grade(items.slice(0, 1))).rejects.toThrow(/reply is not JSON: <html>proxy login<\/html>/);
    failures = [{ status: 200, body: '{"choices":[]}' }];
    await expect(judge.grade(items.slice(0, 1))).rejects.toThrow(/not a chat completion/);
  });

  it('retries a refused connection, then fails naming the cause', async () => {
    const judge = createLlmJudge({ baseUrl: 'http://127.0.0.1:1/v1', model: 'm', retries: 1, backoffMs: () => 1 });
    await expect(judge.grade(items.slice(0, 1))).rejects.toThrow(/request failed .*gave up after 2 attempts/);
  });
});
