/**
 * @file Invented people of the tiny world and how their facts are written: passages (one phrasing,
 * pronouns after the first sentence), restatements, implications, and questions.
 */
import { decadeOf, type WorldEntities } from './entities';
import type { Prng } from './prng';
import {
  DIRECT_RELATIONS,
  fillTemplate,
  IMPLIED_RELATIONS,
  PERSON_QUESTIONS,
  PERSON_STATEMENTS,
  isImplied,
  type PersonRelation,
} from './relations';
import type { KnowledgePassage, KnowledgeQuestion } from './squad';

export interface Person {
  name: string;
  pronoun: 'He' | 'She';
  /** Every relation's value, direct and implied, as it appears in text. */
  facts: Record<PersonRelation, string>;
}

/** Draw a person with a name not yet in `usedNames`; implied facts follow from the world tables. */
export function drawPerson(rng: Prng, world: WorldEntities, usedNames: Set<string>): Person {
  let name = '';
  for (let tries = 0; ; tries++) {
    if (tries > 10_000) throw new Error('drawPerson: no unused names left; raise firstNames/lastNames');
    name = `${rng.pick(world.firstNames)} ${rng.pick(world.lastNames)}`;
    if (!usedNames.has(name)) break;
  }
  usedNames.add(name);
  const city = rng.pick(world.cities);
  const company = rng.pick(world.companies);
  const school = rng.pick(world.schools);
  const year = rng.pick(world.years);
  return {
    name,
    pronoun: rng.chance(0.5) ? 'He' : 'She',
    facts: {
      birthCity: city.name,
      birthYear: String(year),
      employer: company.name,
      school: school.name,
      field: rng.pick(world.fields),
      birthCountry: city.country,
      birthDecade: decadeOf(year),
      industry: company.industry,
      workCity: company.city,
      schoolCity: world.schools.find((s) => s.name === school.name)!.city,
    },
  };
}

/** One sentence about a person; `byPronoun` puts He/She (His/Her) in the subject slot. */
export function statement(person: Person, relation: PersonRelation, template: string, byPronoun = false): string {
  const possessive = person.pronoun === 'He' ? 'His' : 'Her';
  return fillTemplate(template, {
    s: byPronoun ? person.pronoun : person.name,
    p: byPronoun ? possessive : `${person.name}'s`,
    n: person.name,
    v: person.facts[relation],
  });
}

/** Which template each direct fact uses in this person's passage: the passage's "one phrasing". */
export type PassagePhrasing = Record<(typeof DIRECT_RELATIONS)[number], number>;

export function drawPhrasing(rng: Prng): PassagePhrasing {
  const phrasing = {} as PassagePhrasing;
  for (const relation of DIRECT_RELATIONS) phrasing[relation] = rng.int(PERSON_STATEMENTS[relation].length);
  return phrasing;
}

/** The passage: the direct facts in random order, the name first, then He/She half of the time. */
export function renderPassage(rng: Prng, person: Person, phrasing: PassagePhrasing): string {
  return rng
    .shuffle(DIRECT_RELATIONS)
    .map((relation, i) => {
      const template = PERSON_STATEMENTS[relation][phrasing[relation]]!;
      // Templates that name the person mid-sentence ({n}) read oddly with a pronoun; keep the name there.
      const byPronoun = i > 0 && !template.includes('{n}') && rng.chance(0.5);
      return statement(person, relation, template, byPronoun);
    })
    .join(' ');
}

/** A statement in a phrasing other than the passage's (for direct facts) or any phrasing (implied). */
export function restatement(rng: Prng, person: Person, relation: PersonRelation, phrasing?: PassagePhrasing): string {
  const templates = PERSON_STATEMENTS[relation];
  const avoid = phrasing && !isImplied(relation) ? phrasing[relation] : -1;
  const choices = templates.map((_, i) => i).filter((i) => i !== avoid);
  return statement(person, relation, templates[rng.pick(choices)]!);
}

export function question(rng: Prng, person: Person, relation: PersonRelation): KnowledgeQuestion {
  return {
    question: fillTemplate(rng.pick(PERSON_QUESTIONS[relation]), { n: person.name }),
    answer: person.facts[relation],
    kind: isImplied(relation) ? 'implied' : 'direct',
    relation,
  };
}

/**
 * The gold self-edit (our stand-in for GPT-4.1's): every implied fact in two phrasings and every
 * direct fact restated once, one per line — the form `buildTrainSequences` splits into examples.
 */
export function oracleCompletion(rng: Prng, person: Person, phrasing: PassagePhrasing): string {
  const lines: string[] = [];
  for (const relation of IMPLIED_RELATIONS) {
    const [a, b] = rng.sample(PERSON_STATEMENTS[relation], 2);
    lines.push(statement(person, relation, a!), statement(person, relation, b!));
  }
  for (const relation of DIRECT_RELATIONS) lines.push(restatement(rng, person, relation, phrasing));
  return lines.join('\n');
}

export interface QuestionMix {
  /** Implied questions per passage (distinct relations). */
  impliedQuestions: number;
  /** Chance of one extra direct question per passage. */
  directQuestionRate: number;
}

/** A held-out passage in SEAL's format: mostly implied questions, few direct ones. */
export function passageRecord(rng: Prng, person: Person, phrasing: PassagePhrasing, mix: QuestionMix): KnowledgePassage {
  const relations: PersonRelation[] = rng.sample(IMPLIED_RELATIONS, mix.impliedQuestions);
  if (rng.chance(mix.directQuestionRate)) relations.splice(rng.int(relations.length + 1), 0, rng.pick(DIRECT_RELATIONS));
  return {
    title: person.name,
    context: renderPassage(rng, person, phrasing),
    questions: relations.map((relation) => question(rng, person, relation)),
  };
}
