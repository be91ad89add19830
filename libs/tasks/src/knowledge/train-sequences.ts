/**
 * @file SEAL's `build_train_sequences` (seal-reference.md §2.2): one self-edit completion becomes
 * the list of texts the inner loop fine-tunes on.
 */

export interface TrainSequenceOptions {
  /**
   * Split the self-edit into one example per line (or per Q/A pair). SEAL sets this for every
   * single-passage run; continued pretraining (CPT) keeps each `---` segment whole.
   */
  splitNewlines?: boolean;
}

const SELF_QA_QUESTION = /Question\s+\d+:/;
const SELF_QA_ANSWER = /Answer\s*:/;

/** The pieces of a completion that become separate training examples (before the title is added). */
export function selfEditExamples(completion: string, { splitNewlines = true }: TrainSequenceOptions = {}): string[] {
  let segments = completion
    .split('---')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (segments.length === 0) segments = [completion.trim()];
  if (!splitNewlines) return segments.filter((s) => s.length > 0);

  // Self-QA form: keep each "Question n: … Answer: …" pair together.
  if (SELF_QA_QUESTION.test(completion) && SELF_QA_ANSWER.test(completion)) {
    const pairs = completion
      .trim()
      .split(/\n(?=Question\s+\d+:)/)
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (pairs.length > 0 && !pairs[0]!.startsWith('Question')) pairs[0] = `Question 1: ${pairs[0]}`;
    return pairs;
  }

  const lines = segments.flatMap((s) => s.split('\n')).map((l) => l.trim()).filter((l) => l.length > 0);
  // "Sure, here are the implications:" followed by a numbered list: the preamble teaches nothing.
  if (lines.length >= 2 && lines[1]!.startsWith('1.')) lines.shift();
  return lines;
}

/**
 * Training sequences for one passage and one self-edit: each example as `"{title}\n{text}"`, then
 * the raw passage. An empty completion gives the passage-only baseline (one sequence).
 */
export function buildTrainSequences(
  passage: { title: string; context: string },
  completion: string,
  options: TrainSequenceOptions = {},
): string[] {
  const examples = completion.trim().length === 0 ? [] : selfEditExamples(completion, options);
  return [...examples.map((text) => `${passage.title}\n${text}`), `${passage.title}\n${passage.context.trim()}`];
}
