/**
 * @file SEAL's LLM grader for real data: any OpenAI-compatible chat-completions endpoint, SEAL's
 * prompt and yes/no rule, retries with backoff on 5xx/429/network errors.
 */
import type { GradeItem, Grader } from './grading';
import { gradingPrompt } from './prompts';

export interface LlmJudgeOptions {
  /** Base URL including the version, e.g. `https://api.openai.com/v1` or a local vLLM `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  /** SEAL used `gpt-4.1`. */
  model: string;
  apiKey?: string;
  /** Extra attempts after the first on retryable failures (SEAL: 3). */
  retries?: number;
  /** Delay before retry n (1-based), ms. SEAL's HTTP client waits 2 s, 4 s, 6 s. */
  backoffMs?: (retry: number) => number;
  /** Per-request timeout, ms. */
  timeoutMs?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  maxTokens?: number;
  /** Injected for tests or proxies; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** The judge could not produce a verdict; the message names the endpoint, the item and the cause. */
export class LlmJudgeError extends Error {
  override name = 'LlmJudgeError';
}

/** SEAL's rule: correct only if the reply says "yes" and never says "no" (whole words, any case). */
export function parseYesNo(reply: string): boolean {
  return /\byes\b/i.test(reply) && !/\bno\b/i.test(reply);
}

class RetryableError extends Error {}

const excerpt = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

export function createLlmJudge(options: LlmJudgeOptions): Grader {
  const {
    model,
    apiKey,
    retries = 3,
    backoffMs = (retry) => 2000 * retry,
    timeoutMs = 120_000,
    concurrency = 4,
    maxTokens = 16,
    fetch: fetchImpl = globalThis.fetch,
  } = options;
  if (!options.baseUrl) throw new LlmJudgeError('LLM judge: baseUrl is required');
  if (!model) throw new LlmJudgeError('LLM judge: model is required');
  const url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;

  async function requestOnce(prompt: string, signal?: AbortSignal): Promise<string> {
    const timeout = AbortSignal.timeout(timeoutMs);
    let response: Response;
    try {
      response = await fetchImpl(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: prompt }], temperature: 0, max_tokens: maxTokens }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new RetryableError(`request failed (${(error as Error).message})`);
    }
    const body = await response.text();
    if (response.status >= 500 || response.status === 429) {
      throw new RetryableError(`HTTP ${response.status}: ${excerpt(body)}`);
    }
    if (!response.ok) throw new LlmJudgeError(`HTTP ${response.status}: ${excerpt(body)}`);
    let content: unknown;
    try {
      content = (JSON.parse(body) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content;
    } catch {
      throw new LlmJudgeError(`reply is not JSON: ${excerpt(body)}`);
    }
    if (typeof content !== 'string') {
      throw new LlmJudgeError(`reply is not a chat completion (no choices[0].message.content): ${excerpt(body)}`);
    }
    return content;
  }

  async function judge(item: GradeItem, signal?: AbortSignal): Promise<boolean> {
    // SEAL marks an empty answer wrong without asking the grader.
    if (item.prediction.trim().length === 0) return false;
    const prompt = gradingPrompt(item.question, item.gold, item.prediction);
    for (let attempt = 0; ; attempt++) {
      try {
        return parseYesNo(await requestOnce(prompt, signal));
      } catch (error) {
        if (!(error instanceof RetryableError)) throw error;
        if (attempt >= retries) throw new LlmJudgeError(`${error.message}; gave up after ${attempt + 1} attempts`);
        await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt + 1)));
      }
    }
  }

  return {
    name: `llm-judge:${model}`,
    async grade(items, { signal } = {}) {
      const verdicts = new Array<boolean>(items.length);
      let next = 0;
      const worker = async () => {
        while (next < items.length) {
          const index = next++;
          const item = items[index]!;
          try {
            verdicts[index] = await judge(item, signal);
          } catch (error) {
            const where = `item ${index} (question ${JSON.stringify(excerpt(item.question))})`;
            throw new LlmJudgeError(`LLM judge ${url}: ${where}: ${(error as Error).message}`, { cause: error });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
      return verdicts;
    },
  };
}
