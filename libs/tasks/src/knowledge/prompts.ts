/**
 * @file SEAL's knowledge-incorporation prompts, verbatim from the original code
 * (seal-reference.md §2.1 and §2.4): the five self-edit styles and the closed-book question.
 */

/** The self-edit prompt styles of SEAL's `MAKE_SQUAD_DATA_TEMPLATES_BASE`. */
export const SELF_EDIT_STYLES = [
  'implications',
  'implications-long',
  'implications-very-long',
  'rewrite',
  'self-qa',
] as const;
export type SelfEditStyle = (typeof SELF_EDIT_STYLES)[number];

const implications = (list: string) =>
  `Let's read the following passage and produce ${list} of implications derived directly or indirectly from the content.\n\n` +
  'Passage:\n{title}\n{context}\n\nImplications:\n';

const SELF_EDIT_TEMPLATES: Record<SelfEditStyle, string> = {
  implications: implications('a list'),
  'implications-long': implications('a long list'),
  'implications-very-long': implications('a very long list'),
  rewrite:
    "Let's read the following passage and rewrite it in a few different ways, each one separated by a newline.\n\n" +
    'Passage:\n{title}\n{context}\n\nRewritten passages:\n',
  // NOTE: ends inside the first question on purpose; the completion continues "Question 1: ".
  'self-qa':
    "Let's read the following passage and rewrite it in a question-answer format.\n\n" +
    'Passage:\n{title}\n{context}\n\nQuestion 1: ',
};

export function isSelfEditStyle(value: string): value is SelfEditStyle {
  return (SELF_EDIT_STYLES as readonly string[]).includes(value);
}

/** The raw-text prompt (no chat template) that asks the model for a self-edit of one passage. */
export function selfEditPrompt(passage: { title: string; context: string }, style: SelfEditStyle = 'implications'): string {
  const template = SELF_EDIT_TEMPLATES[style];
  if (template === undefined) {
    throw new Error(`unknown self-edit style "${String(style)}" (known: ${SELF_EDIT_STYLES.join(', ')})`);
  }
  // A function replacer, so `$&`-like sequences in the passage are not interpreted.
  return template.replace('{title}', () => passage.title).replace('{context}', () => passage.context);
}

/** SEAL rewrites each evaluation question with its passage's title, since the passage is not in context. */
export function topicQuestion(title: string, question: string): string {
  return `Topic: ${title}\n${question}`;
}

/** The closed-book answer prompt for the base model; the answer follows it, greedy, up to EOS. */
export function questionPrompt(title: string, question: string): string {
  return `Let's answer a question directly and concisely.\nQuestion: ${topicQuestion(title, question)}\nAnswer:\n`;
}

/** SEAL's GPT-4.1 grading prompt (utils.SQUAD_GRADE_TEMPLATE). */
export function gradingPrompt(question: string, gold: string, prediction: string): string {
  return (
    "You are a grading assistant. Your job is to determine whether a student's answer correctly answers the question " +
    'based solely on the provided gold answer. Do not use any outside knowledge. The student answer can include additional ' +
    'information, but it must at least fully convey the gold answer and must not contradict it. Ignore style, phrasing, ' +
    "or extra details that do not affect correctness. Respond ONLY with 'yes' or 'no'.\n\n" +
    `Question: ${question}\nGold answer: ${gold}\nStudent answer: ${prediction.trim()}\n` +
    "Is the student answer correct based solely on the gold answer? Respond 'yes' or 'no'."
  );
}
