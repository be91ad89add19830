/**
 * @file SQuAD data in SEAL's format (`{title, context, questions:[{question, answer}]}`) and in
 * the official SQuAD v1.1 JSON (data → paragraphs → qas → answers): read, validate, write.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Domain types
// ---------------------------------------------------------------------------------------------

/** One closed-book question. `kind`/`relation` are tiny-world extras; SEAL's code ignores them. */
export interface KnowledgeQuestion {
  question: string;
  answer: string;
  /** `direct`: stated in the passage; `implied`: needs one step of world knowledge. */
  kind?: 'direct' | 'implied';
  /** Which relation the question asks (tiny world), e.g. `birthCountry`. */
  relation?: string;
}

/** A passage and its questions: one record of SEAL's `squad_val.json`. */
export interface KnowledgePassage {
  title: string;
  context: string;
  questions: KnowledgeQuestion[];
}

/** SEAL's synthetic-data record: the passage plus the exact prompt and k sampled self-edits. */
export interface SelfEditRecord extends KnowledgePassage {
  prompt: string;
  completions: string[];
}

/** Raised for malformed input; the message names the file and the record (index and title). */
export class KnowledgeDataError extends Error {
  override name = 'KnowledgeDataError';
}

// ---------------------------------------------------------------------------------------------
// Schemas (zod checks shape; the messages below add where the record is)
// ---------------------------------------------------------------------------------------------

const nonEmpty = (what: string) => z.string().refine((s) => s.trim().length > 0, `${what} is empty`);

const questionSchema = z.object({
  question: nonEmpty('question'),
  answer: nonEmpty('answer'),
  kind: z.enum(['direct', 'implied']).optional(),
  relation: z.string().optional(),
});

const passageSchema = z.object({
  title: nonEmpty('title'),
  context: nonEmpty('passage (context)'),
  questions: z.array(questionSchema),
});

const selfEditSchema = passageSchema.extend({
  prompt: nonEmpty('prompt'),
  completions: z.array(z.string()),
});

const squadV1Schema = z.object({
  version: z.string().optional(),
  data: z.array(
    z.object({
      title: nonEmpty('title'),
      paragraphs: z.array(
        z.object({
          context: nonEmpty('passage (context)'),
          qas: z.array(
            z.object({
              id: z.string().optional(),
              question: nonEmpty('question'),
              answers: z
                .array(z.object({ text: nonEmpty('answer text'), answer_start: z.number().int().optional() }))
                .min(1, 'question has no answer'),
            }),
          ),
        }),
      ),
    }),
  ),
});

function describeRecord(raw: unknown, index: number): string {
  const title =
    raw && typeof raw === 'object' && typeof (raw as { title?: unknown }).title === 'string'
      ? ` (title "${(raw as { title: string }).title}")`
      : '';
  return `record ${index}${title}`;
}

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') : '(record)';
      // A missing field reads better as "missing" than as zod's "expected string, received undefined".
      const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
      return `${where}: ${missing ? 'missing' : issue.message}`;
    })
    .join('; ');
}

function parseRecords<T>(json: unknown, schema: z.ZodType<T>, source: string): T[] {
  if (!Array.isArray(json)) {
    throw new KnowledgeDataError(`${source}: expected a JSON array of {title, context, questions} records`);
  }
  return json.map((raw, index) => {
    const result = schema.safeParse(raw);
    if (!result.success) {
      throw new KnowledgeDataError(`${source}: ${describeRecord(raw, index)}: ${formatIssues(result.error)}`);
    }
    return result.data;
  });
}

// ---------------------------------------------------------------------------------------------
// SEAL's format
// ---------------------------------------------------------------------------------------------

/** Validate parsed JSON in SEAL's passage format. `source` names the input in errors. */
export function parseSealPassages(json: unknown, source = 'input'): KnowledgePassage[] {
  return parseRecords(json, passageSchema, source);
}

/** Validate SEAL's synthetic self-edit records (`prompt`, `completions` added to each passage). */
export function parseSelfEditRecords(json: unknown, source = 'input'): SelfEditRecord[] {
  return parseRecords(json, selfEditSchema, source);
}

// ---------------------------------------------------------------------------------------------
// SQuAD v1.1
// ---------------------------------------------------------------------------------------------

/**
 * Official SQuAD v1.1 → SEAL records: one record per paragraph under its article's title, the
 * first gold answer per question (SEAL keeps a single answer string).
 */
export function parseSquadV1(json: unknown, source = 'input'): KnowledgePassage[] {
  const result = squadV1Schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const [, articleIndex, , paragraphIndex] = issue.path;
    const data = (json as { data?: unknown[] } | null)?.data;
    const article = typeof articleIndex === 'number' && Array.isArray(data) ? data[articleIndex] : undefined;
    const where =
      typeof articleIndex === 'number'
        ? `article ${articleIndex}${describeRecord(article, articleIndex).replace(/^record \d+/, '')}` +
          (typeof paragraphIndex === 'number' ? `, paragraph ${paragraphIndex}` : '')
        : 'top level';
    throw new KnowledgeDataError(`${source}: SQuAD v1.1 ${where}: ${formatIssues(result.error)}`);
  }
  return result.data.data.flatMap((article) =>
    article.paragraphs.map((paragraph) => ({
      title: article.title,
      context: paragraph.context,
      questions: paragraph.qas.map((qa) => ({ question: qa.question, answer: qa.answers[0]!.text })),
    })),
  );
}

/** SQuAD v1.1 JSON value for SEAL records; consecutive passages with one title form one article. */
export function toSquadV1(passages: readonly KnowledgePassage[], version = '1.1'): unknown {
  const data: { title: string; paragraphs: unknown[] }[] = [];
  passages.forEach((passage, p) => {
    let article = data.at(-1);
    if (!article || article.title !== passage.title) {
      article = { title: passage.title, paragraphs: [] };
      data.push(article);
    }
    article.paragraphs.push({
      context: passage.context,
      qas: passage.questions.map((q, i) => ({
        id: `${p}-${i}`,
        question: q.question,
        // -1 where the answer is not a span of the passage (tiny-world implied answers).
        answers: [{ text: q.answer, answer_start: passage.context.indexOf(q.answer) }],
      })),
    });
  });
  return { version, data };
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new KnowledgeDataError(`${path}: cannot read (${(error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new KnowledgeDataError(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** Read a passage file in either format: a JSON array is SEAL's, an object with `data` is SQuAD v1.1. */
export function readKnowledgeFile(path: string): KnowledgePassage[] {
  const json = readJson(path);
  if (json && typeof json === 'object' && !Array.isArray(json) && 'data' in json) return parseSquadV1(json, path);
  return parseSealPassages(json, path);
}

/** Read SEAL's synthetic self-edit file (e.g. `base_val.json`). */
export function readSelfEditFile(path: string): SelfEditRecord[] {
  return parseSelfEditRecords(readJson(path), path);
}

/** Write records (passages or self-edit records) in SEAL's format. */
export function writeSealFile(path: string, records: readonly KnowledgePassage[]): void {
  writeFileSync(path, `${JSON.stringify(records, null, 2)}\n`);
}

/** Write passages as official SQuAD v1.1 JSON. */
export function writeSquadV1File(path: string, passages: readonly KnowledgePassage[]): void {
  writeFileSync(path, `${JSON.stringify(toSquadV1(passages))}\n`);
}
