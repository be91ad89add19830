/**
 * @file Reading a self-edit against the tiny world's ground truth: which of a person's facts it
 * states rightly, wrongly, both or not at all. Shared by the research probes in this folder.
 */
import { IMPLIED_RELATIONS, type Person, type PersonRelation, type World, type WorldPerson } from '@seal/tasks';

export type FactStatus = 'right' | 'wrong' | 'both' | 'missing';

export interface FactChecker {
  /** Every person the world knows (pretraining, demo-only, every split). */
  readonly everyone: readonly WorldPerson[];
  /** Whether `text` names the person's value of `relation`. */
  statesTruth(person: Person, relation: PersonRelation, text: string): boolean;
  /** How many other values that `relation` takes in this world `text` names (not counting the person's own values of other relations). */
  wrongValues(person: Person, relation: PersonRelation, text: string): number;
  /** Right, wrong, both or neither (the two above, summarised). */
  status(person: Person, relation: PersonRelation, text: string): FactStatus;
  /** Implied facts stated right minus those stated wrong (a value both ways counts 0): a ground-truth reward. */
  impliedScore(person: Person, text: string): number;
  /** Implied facts whose true value two or more lines state (the student absorbs a fact said twice ~1.6× as well). */
  impliedRepeated(person: Person, text: string): number;
}

export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const mentions = (text: string, value: string) => new RegExp(`\\b${escapeRegExp(value)}\\b`).test(text);

export function factChecker(world: World): FactChecker {
  const everyone = [...world.pretrain, ...world.demoOnly, ...Object.values(world.splits).flat()];
  const valuesOf = new Map<PersonRelation, Set<string>>();
  for (const { person } of everyone) {
    for (const [relation, value] of Object.entries(person.facts) as [PersonRelation, string][]) {
      if (!valuesOf.has(relation)) valuesOf.set(relation, new Set());
      valuesOf.get(relation)!.add(value);
    }
  }
  const statesTruth = (person: Person, relation: PersonRelation, text: string) => mentions(text, person.facts[relation]);
  // A value the person truly has under another relation is not a wrong one: the birth town is a
  // city, and every edit names it, but it is no wrong claim about the work or school city.
  const wrongValues = (person: Person, relation: PersonRelation, text: string) => {
    const own = new Set(Object.values(person.facts));
    return [...(valuesOf.get(relation) ?? [])].filter((v) => !own.has(v) && mentions(text, v)).length;
  };
  const status = (person: Person, relation: PersonRelation, text: string): FactStatus => {
    const right = statesTruth(person, relation, text);
    const wrong = wrongValues(person, relation, text) > 0;
    return right ? (wrong ? 'both' : 'right') : wrong ? 'wrong' : 'missing';
  };
  return {
    everyone,
    statesTruth,
    wrongValues,
    status,
    impliedScore: (person, text) =>
      IMPLIED_RELATIONS.reduce((sum, r) => sum + ({ right: 1, wrong: -1, both: 0, missing: 0 } as const)[status(person, r, text)], 0),
    impliedRepeated: (person, text) => {
      const lines = text.split('\n');
      return IMPLIED_RELATIONS.filter((r) => lines.filter((line) => mentions(line, person.facts[r])).length >= 2).length;
    },
  };
}
