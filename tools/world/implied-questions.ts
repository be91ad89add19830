/** @file Every implied relation of a person asked in every question template (15): a probe's yardstick. */
import { fillTemplate, IMPLIED_RELATIONS, PERSON_QUESTIONS, type Person } from '@seal/tasks';

export function impliedTemplateQuestions(person: Person, idPrefix: string): { id: string; question: string; answer: string; kind: 'implied' }[] {
  return IMPLIED_RELATIONS.flatMap((r) => PERSON_QUESTIONS[r].map((t, j) => ({
    id: `${idPrefix}-${r}-${j}`, question: fillTemplate(t, { n: person.name }), answer: person.facts[r], kind: 'implied' as const,
  })));
}
