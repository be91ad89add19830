/**
 * @file Deterministic answer grading for the tiny world (SQuAD-style normalisation, then exact
 * match or whole-word containment) and the `Grader` interface the LLM judge also implements.
 */

/** One answer to grade. `question` is what the student saw (SEAL: "Topic: {title}\n{question}"). */
export interface GradeItem {
  question: string;
  gold: string;
  prediction: string;
}

/** Grades a batch of answers; one verdict per item, in order. */
export interface Grader {
  readonly name: string;
  grade(items: readonly GradeItem[], options?: { signal?: AbortSignal }): Promise<boolean[]>;
}

export type MatchMode = 'exact' | 'contains';

/** SQuAD's official normalisation: lower case, no punctuation, no articles, single spaces. */
export function normalizeAnswer(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\p{P}\p{S}]/gu, ' ')
    .replace(/\b(a|an|the)\b/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Whether a generated answer is right. Only the first non-empty line counts: the model answers
 * after "Answer:\n" and anything on later lines is a new, unrelated continuation. `contains`
 * accepts the gold answer as a whole-word run inside the line ("born in the 1980s" ⊇ "1980s").
 */
export function answerMatches(prediction: string, gold: string, mode: MatchMode = 'contains'): boolean {
  const firstLine = prediction.split('\n').find((line) => line.trim().length > 0) ?? '';
  const predicted = normalizeAnswer(firstLine);
  const expected = normalizeAnswer(gold);
  if (predicted.length === 0 || expected.length === 0) return false;
  if (mode === 'exact') return predicted === expected;
  return ` ${predicted} `.includes(` ${expected} `);
}

/** The tiny world's grader: deterministic, no network. */
export function createMatchGrader(mode: MatchMode = 'contains'): Grader {
  return {
    name: `match-${mode}`,
    grade: async (items) => items.map((item) => answerMatches(item.prediction, item.gold, mode)),
  };
}

/** Fraction correct; an empty list is an error rather than a silent 0 or NaN. */
export function accuracy(verdicts: readonly boolean[]): number {
  if (verdicts.length === 0) throw new Error('accuracy of zero questions is undefined');
  return verdicts.filter(Boolean).length / verdicts.length;
}
