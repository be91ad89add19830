/**
 * @file The tiny world's pretraining corpus: what the base model knows before SEAL starts — the
 * world's places and organisations, many people (passages, bios, QA), and mixed-quality
 * demonstrations of the self-edit prompts. One document is one training sequence.
 */
import { DIRECT_RELATIONS, IMPLIED_FROM, IMPLIED_RELATIONS, PERSON_QUESTIONS, PERSON_STATEMENTS, WORLD_QUESTIONS, WORLD_STATEMENTS, fillTemplate, type WorldRelation } from './relations';
import { statement } from './person';
import { Prng } from './prng';
import { questionPrompt } from './prompts';
import { demoDocument } from './self-edit-demos';
import { decadeOf } from './entities';
import type { World, WorldPerson } from './world';

export const PRETRAIN_KINDS = ['passage', 'bio', 'qa', 'self-edit', 'world-fact', 'world-qa'] as const;
export type PretrainKind = (typeof PRETRAIN_KINDS)[number];

export interface PretrainDocument {
  kind: PretrainKind;
  text: string;
}

/** A question and its answer exactly as the evaluation asks it, so the format is learned. */
function qaDocument(title: string, questionText: string, answer: string): string {
  return `${questionPrompt(title, questionText)}${answer}`;
}

function personDocuments(rng: Prng, world: World, { person, phrasing, record }: WorldPerson): PretrainDocument[] {
  const docs: PretrainDocument[] = [{ kind: 'passage', text: `${person.name}\n${record.context}` }];
  // Bios stating each direct fact next to what it implies, in fresh phrasings: this is where the
  // model learns the statement forms of implied facts and that they answer the implied questions.
  // Several bios per person (knowledge augmentation) make facts extractable by questions in
  // phrasings the bio did not use, which is what the oracle condition relies on.
  for (let copy = 0; copy < world.config.biosPerPerson; copy++) {
    const sentences = DIRECT_RELATIONS.flatMap((relation) => [
      statement(person, relation, rng.pick(PERSON_STATEMENTS[relation])),
      ...IMPLIED_RELATIONS.filter((implied) => IMPLIED_FROM[implied].from === relation).map((implied) =>
        statement(person, implied, rng.pick(PERSON_STATEMENTS[implied])),
      ),
    ]);
    docs.push({ kind: 'bio', text: `${person.name}\n${sentences.join(' ')}` });
  }
  for (const relation of [...DIRECT_RELATIONS, ...IMPLIED_RELATIONS]) {
    const questionText = fillTemplate(rng.pick(PERSON_QUESTIONS[relation]), { n: person.name });
    docs.push({ kind: 'qa', text: qaDocument(person.name, questionText, person.facts[relation]) });
  }
  if (rng.chance(world.config.selfEditDemoRate)) docs.push(demonstrationDocument(rng, world, { person, phrasing, record }));
  return docs;
}

/** One self-edit demonstration (prompt + completion) about a person. */
function demonstrationDocument(rng: Prng, world: World, { person, phrasing, record }: WorldPerson): PretrainDocument {
  const demo = demoDocument(rng, person, record.context, phrasing, world.config.impliedInDemoRate, world.config.walkThroughDemoRate, {
    repeatRate: world.config.impliedRepeatRate,
    questionRate: world.config.impliedQuestionRate,
    thoroughRate: world.config.thoroughDemoRate,
    thoroughRepeatRate: world.config.thoroughRepeatRate,
  });
  return { kind: 'self-edit', text: `${demo.prompt}${demo.completion}` };
}

/** Every world fact as (relation, entity, value). */
export function worldFacts(world: World): { relation: WorldRelation; entity: string; value: string }[] {
  const { cities, companies, schools, years } = world.entities;
  return [
    ...cities.map((c) => ({ relation: 'cityCountry' as const, entity: c.name, value: c.country })),
    ...companies.map((c) => ({ relation: 'companyIndustry' as const, entity: c.name, value: c.industry })),
    ...companies.map((c) => ({ relation: 'companyCity' as const, entity: c.name, value: c.city })),
    ...schools.map((s) => ({ relation: 'schoolCity' as const, entity: s.name, value: s.city })),
    ...years.map((y) => ({ relation: 'yearDecade' as const, entity: String(y), value: decadeOf(y) })),
  ];
}

function worldDocuments(world: World): PretrainDocument[] {
  const docs: PretrainDocument[] = [];
  for (const { relation, entity, value } of worldFacts(world)) {
    const statements = WORLD_STATEMENTS[relation];
    const questions = WORLD_QUESTIONS[relation];
    for (let r = 0; r < world.config.worldFactRepeats; r++) {
      docs.push({ kind: 'world-fact', text: `${entity}\n${fillTemplate(statements[r % statements.length]!, { e: entity, v: value })}` });
      docs.push({ kind: 'world-qa', text: qaDocument(entity, fillTemplate(questions[r % questions.length]!, { e: entity }), value) });
    }
  }
  return docs;
}

/** The whole corpus, shuffled deterministically (a trainer that streams it in order still mixes kinds). */
export function pretrainingCorpus(world: World): PretrainDocument[] {
  const rng = new Prng(world.seed).fork('pretraining-corpus');
  const docs = [
    ...worldDocuments(world),
    ...world.pretrain.flatMap((p) => personDocuments(rng, world, p)),
    // people the rest of the corpus never mentions: their demonstration is all it says of them
    ...world.demoOnly.map((p) => demonstrationDocument(rng, world, p)),
  ];
  return rng.shuffle(docs);
}
