/**
 * @file Pretraining demonstrations of SEAL's self-edit prompts, of deliberately mixed quality:
 * restatements always, implied facts only sometimes — the gap SEAL's RL is meant to close.
 */
import { DIRECT_RELATIONS, IMPLIED_FROM, IMPLIED_RELATIONS, PERSON_STATEMENTS } from './relations';
import { question, restatement, statement, type PassagePhrasing, type Person } from './person';
import type { PersonRelation } from './relations';
import type { Prng } from './prng';
import { selfEditPrompt, type SelfEditStyle } from './prompts';

/** How often each prompt style is demonstrated; `implications` dominates as in SEAL's main results. */
export const DEMO_STYLE_WEIGHTS: readonly [SelfEditStyle, number][] = [
  ['implications', 0.6],
  ['implications-long', 0.1],
  ['implications-very-long', 0.1],
  ['rewrite', 0.1],
  ['self-qa', 0.1],
];

export function drawDemoStyle(rng: Prng): SelfEditStyle {
  let r = rng.next();
  for (const [style, weight] of DEMO_STYLE_WEIGHTS) {
    if ((r -= weight) < 0) return style;
  }
  return 'implications';
}

/** Longer-list prompts get more lines and more implied facts, as longer edits did in SEAL's ablation. */
const STYLE_BONUS: Partial<Record<SelfEditStyle, number>> = { 'implications-long': 0.15, 'implications-very-long': 0.25 };

function impliedRateFor(style: SelfEditStyle, impliedRate: number): number {
  return Math.min(1, impliedRate + (STYLE_BONUS[style] ?? 0));
}

/**
 * A demonstration completion for `style`. `impliedRate` is the chance each implied fact appears;
 * direct facts are restated in other phrasings (1..5 of them).
 */
export function demoCompletion(
  rng: Prng,
  person: Person,
  phrasing: PassagePhrasing,
  style: SelfEditStyle,
  impliedRate: number,
): string {
  const rate = impliedRateFor(style, impliedRate);
  if (style === 'rewrite') {
    // Rewrites restate the passage; they add nothing implied.
    return Array.from({ length: 1 + rng.int(3) }, () =>
      rng.shuffle(DIRECT_RELATIONS).map((relation) => restatement(rng, person, relation, phrasing)).join(' '),
    ).join('\n');
  }
  const direct = rng.sample(DIRECT_RELATIONS, 1 + rng.int(DIRECT_RELATIONS.length));
  const implied = IMPLIED_RELATIONS.filter(() => rng.chance(rate));
  const relations = rng.shuffle([...direct, ...implied]);
  if (style === 'self-qa') {
    // The prompt already ends in "Question 1: ", so the completion starts with the question text.
    return relations
      .map((relation, i) => {
        const qa = question(rng, person, relation);
        return `${i === 0 ? '' : `Question ${i + 1}: `}${qa.question}\nAnswer: ${qa.answer}`;
      })
      .join('\n');
  }
  return relations.map((relation) => restatement(rng, person, relation, phrasing)).join('\n');
}

/** How a walk-through writes the implied facts it states (each rate 0 by default, which draws nothing). */
export interface ImpliedLineStyle {
  /** Chance that an implied fact gets a second line in another phrasing. */
  repeatRate?: number;
  /** Chance that the whole walk-through writes its implied facts as questions and answers instead of statements. */
  questionRate?: number;
  /** Chance that the whole walk-through states every implied fact (the rest state fewer, keeping the mean rate). */
  thoroughRate?: number;
  /** In a thorough walk-through, the chance that each implied fact gets a second phrasing (replaces `repeatRate` there). */
  thoroughRepeatRate?: number;
}

/**
 * A "walk the passage" completion: each sentence of the passage in its own phrasing with the name
 * as subject, in the passage's order, each followed by what it implies (each implied fact with
 * p = `impliedRate`). Copying a sentence is an induction-head skill a small model learns early, and
 * an implied fact then needs only the value written on the line before plus world knowledge —
 * where finding the value in a paraphrase far back in the prompt is not learned in a tiny budget.
 */
export function walkThroughCompletion(
  rng: Prng,
  person: Person,
  context: string,
  phrasing: PassagePhrasing,
  impliedRate: number,
  { repeatRate = 0, questionRate = 0, thoroughRate = 0, thoroughRepeatRate = 0 }: ImpliedLineStyle = {},
): string {
  // One draw per completion: a demonstration keeps one form for all its implied facts. A rate of 0
  // draws nothing, so corpora without it stay byte-identical.
  const asQuestions = questionRate > 0 && rng.chance(questionRate);
  if (thoroughRate > 0) {
    const thorough = rng.chance(thoroughRate);
    impliedRate = thorough ? 1 : Math.max(0, (impliedRate - thoroughRate) / (1 - thoroughRate));
    if (thorough && thoroughRepeatRate > 0) repeatRate = thoroughRepeatRate;
  }
  const order = [...DIRECT_RELATIONS].sort((a, b) => context.indexOf(person.facts[a]) - context.indexOf(person.facts[b]));
  return order
    .flatMap((relation) => [
      statement(person, relation, PERSON_STATEMENTS[relation][phrasing[relation]]!),
      ...IMPLIED_RELATIONS.filter((implied) => IMPLIED_FROM[implied].from === relation && rng.chance(impliedRate)).flatMap((implied) =>
        asQuestions ? [questionLine(rng, person, implied)] : impliedStatements(rng, person, implied, repeatRate),
      ),
    ])
    .join('\n');
}

/**
 * An implied fact as one "Question: … Answer: …" line: one line is one inner-loop example (SEAL's
 * line split), so question and answer are learned together.
 */
function questionLine(rng: Prng, person: Person, implied: PersonRelation): string {
  const qa = question(rng, person, implied);
  return `Question: ${qa.question} Answer: ${qa.answer}`;
}

/** An implied fact's line, and with p = `repeatRate` a second line in another phrasing (no draw at rate 0). */
function impliedStatements(rng: Prng, person: Person, implied: PersonRelation, repeatRate: number): string[] {
  const first = restatement(rng, person, implied);
  if (!(repeatRate > 0 && rng.chance(repeatRate))) return [first];
  const others = PERSON_STATEMENTS[implied].map((template) => statement(person, implied, template)).filter((line) => line !== first);
  return others.length ? [first, rng.pick(others)] : [first];
}

/**
 * Prompt and completion of one demonstration; the corpus stores them as one document. With
 * probability `walkThroughRate`, an implications-style demonstration walks the passage
 * (`walkThroughCompletion`) instead of restating facts in other phrasings.
 */
export function demoDocument(
  rng: Prng,
  person: Person,
  context: string,
  phrasing: PassagePhrasing,
  impliedRate: number,
  walkThroughRate = 0,
  impliedLineStyle: ImpliedLineStyle = {},
): { style: SelfEditStyle; prompt: string; completion: string } {
  const style = drawDemoStyle(rng);
  // No draw at rate 0, so corpora without walk-throughs stay byte-identical.
  const walk = walkThroughRate > 0 && style.startsWith('implications') && rng.chance(walkThroughRate);
  return {
    style,
    prompt: selfEditPrompt({ title: person.name, context }, style),
    completion: walk ? walkThroughCompletion(rng, person, context, phrasing, impliedRateFor(style, impliedRate), impliedLineStyle) : demoCompletion(rng, person, phrasing, style, impliedRate),
  };
}

