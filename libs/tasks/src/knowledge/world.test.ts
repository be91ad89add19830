/** @file Tests for the tiny world: determinism, disjoint splits, one-step implications, question mix, corpus. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decadeOf } from './entities';
import { statement } from './person';
import { DIRECT_RELATIONS, IMPLIED_RELATIONS, PERSON_STATEMENTS } from './relations';
import { pretrainingCorpus } from './pretraining-corpus';
import { selfEditPrompt } from './prompts';
import { buildTrainSequences } from './train-sequences';
import { generateWorld, oracleRecords, oracleSequences, PASSAGE_SPLITS, splitPassages } from './world';
import { corpusJsonl } from './world-files';

const small = { pretrainPeople: 200, rlTrainPassages: 30, valPassages: 20, testPassages: 40 };
const world = generateWorld(7, small);
const sha = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

describe('generateWorld', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const again = generateWorld(7, small);
    expect(sha(again)).toBe(sha(world));
    expect(sha(pretrainingCorpus(again))).toBe(sha(pretrainingCorpus(world)));
    expect(sha(generateWorld(8, small).splits.test)).not.toBe(sha(world.splits.test));
  });

  it('keeps the held-out splits fixed when the pretraining size changes', () => {
    const bigger = generateWorld(7, { ...small, pretrainPeople: 300 });
    expect(sha(bigger.splits.test)).toBe(sha(world.splits.test));
    expect(sha(bigger.entities)).toBe(sha(world.entities));
  });

  it('has people disjoint across pretraining, RL-train, val and test', () => {
    const names = [world.pretrain, ...PASSAGE_SPLITS.map((s) => world.splits[s])].flatMap((people) => people.map((p) => p.person.name));
    expect(names).toHaveLength(200 + 30 + 20 + 40);
    expect(new Set(names).size).toBe(names.length);
  });

  it('implied facts follow from one direct fact plus world knowledge', () => {
    const { cities, companies, schools } = world.entities;
    for (const { person } of [...world.pretrain, ...world.splits.test]) {
      const f = person.facts;
      expect(f.birthCountry).toBe(cities.find((c) => c.name === f.birthCity)!.country);
      expect(f.birthDecade).toBe(decadeOf(Number(f.birthYear)));
      expect(f.industry).toBe(companies.find((c) => c.name === f.employer)!.industry);
      expect(f.workCity).toBe(companies.find((c) => c.name === f.employer)!.city);
      expect(f.schoolCity).toBe(schools.find((s) => s.name === f.school)!.city);
    }
  });

  it('passages state only direct facts; questions are mostly implied with short answers', () => {
    const test = splitPassages(world, 'test');
    const questions = test.flatMap((p) => p.questions);
    const implied = questions.filter((q) => q.kind === 'implied');
    expect(questions.length).toBeGreaterThanOrEqual(4 * test.length);
    expect(implied.length / questions.length).toBeGreaterThan(0.85);
    for (const passage of test) {
      const { person } = world.splits.test.find((p) => p.record.title === passage.title)!;
      for (const relation of ['birthCountry', 'birthDecade', 'industry'] as const) {
        expect(passage.context).not.toContain(person.facts[relation]);
      }
      expect(passage.context).toContain(person.facts.birthCity);
      expect(passage.context.split(". ")[0]).toContain(person.name);
      for (const q of passage.questions) {
        expect(q.answer.split(' ').length).toBeLessThanOrEqual(2);
        expect(q.question).toContain(passage.title);
      }
    }
  });

  it('oracle self-edits state every implied fact and become SEAL training sequences', () => {
    const [first] = world.splits.test;
    for (const value of Object.values(first!.person.facts)) expect(first!.oracle).toContain(value);
    const records = oracleRecords(world, 'test');
    expect(records[0]!.prompt).toBe(selfEditPrompt(first!.record));
    const sequences = oracleSequences(world, 'test')[0]!.sequences;
    expect(sequences).toEqual(buildTrainSequences(first!.record, first!.oracle));
    expect(sequences).toHaveLength(16); // 5 implied × 2 phrasings + 5 restatements + the passage
  });

  it('rejects bad config with the field name', () => {
    expect(() => generateWorld(1, { directQuestionRate: 2 })).toThrow(/directQuestionRate/);
    expect(() => generateWorld(1, { industries: 99 })).toThrow(/industries/);
    expect(() => generateWorld(1, { pretrainPeople: 1e6 })).toThrow(/more names/);
    expect(() => splitPassages(world, 'train' as never)).toThrow(/unknown split "train"/);
  });
});

describe('pretrainingCorpus', () => {
  const corpus = pretrainingCorpus(world);

  it('teaches the world, the people, the QA format and mixed-quality self-edits', () => {
    const kinds = new Map<string, number>();
    for (const doc of corpus) kinds.set(doc.kind, (kinds.get(doc.kind) ?? 0) + 1);
    expect(kinds.get('passage')).toBe(200);
    expect(kinds.get('qa')).toBe(200 * 10);
    expect(kinds.get('self-edit')).toBeGreaterThan(100);
    expect(kinds.get('world-fact')).toBe((48 + 36 * 2 + 24 + 80) * 4);
    const city = world.entities.cities[0]!;
    expect(corpus.some((d) => d.kind === 'world-fact' && d.text.includes(city.name) && d.text.includes(city.country))).toBe(true);
  });

  it('biosPerPerson adds bios in fresh phrasings (knowledge augmentation)', () => {
    const twice = pretrainingCorpus(generateWorld(7, { ...small, biosPerPerson: 2 }));
    const bios = twice.filter((d) => d.kind === 'bio');
    expect(bios).toHaveLength(400);
    const name = world.pretrain[0]!.person.name;
    const own = bios.filter((d) => d.text.startsWith(`${name}\n`)).map((d) => d.text);
    expect(own).toHaveLength(2);
    expect(own[0]).not.toBe(own[1]);
  });

  it('self-edit demonstrations include implied facts sometimes, not always', () => {
    const demos = world.pretrain
      .map((p) => corpus.find((d) => d.kind === 'self-edit' && d.text.includes(`Passage:\n${p.person.name}\n`)))
      .map((d, i) => (d ? d.text.includes(world.pretrain[i]!.person.facts.birthCountry) : undefined))
      .filter((x) => x !== undefined);
    const share = demos.filter(Boolean).length / demos.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.7);
  });

  it('demo-only people appear in exactly one document, a self-edit demonstration, and leave the rest of the world as it was', () => {
    const withDemos = generateWorld(7, { ...small, demoOnlyPeople: 50 });
    expect(sha(withDemos.pretrain)).toBe(sha(world.pretrain));
    expect(sha(withDemos.splits)).toBe(sha(world.splits));
    const others = new Set([world.pretrain, ...PASSAGE_SPLITS.map((s) => world.splits[s])].flatMap((people) => people.map((p) => p.person.name)));
    expect(withDemos.demoOnly.filter((p) => others.has(p.person.name))).toEqual([]);
    const docs = pretrainingCorpus(withDemos);
    for (const { person } of withDemos.demoOnly) {
      const mentions = docs.filter((d) => new RegExp(`\\b${person.name}\\b`).test(d.text));
      expect(mentions.map((d) => d.kind)).toEqual(['self-edit']);
      expect(mentions[0]!.text).toContain(`Passage:\n${person.name}\n`);
    }
    expect(docs.length - corpus.length).toBe(50);
  });

  it('walk-through demonstrations copy the passage sentence by sentence, each followed by what it implies', () => {
    const walked = generateWorld(7, { ...small, selfEditDemoRate: 0, demoOnlyPeople: 40, walkThroughDemoRate: 1, impliedInDemoRate: 1 });
    const docs = pretrainingCorpus(walked).filter((d) => d.kind === 'self-edit' && d.text.startsWith(selfEditPrompt({ title: 'x', context: 'y' }).split('\n')[0]!));
    const byName = new Map(walked.demoOnly.map((p) => [p.person.name, p]));
    expect(docs.length).toBeGreaterThan(10);
    for (const doc of docs) {
      const person = [...byName.values()].find((p) => doc.text.includes(`Passage:\n${p.person.name}\n`))!;
      const lines = doc.text.split('Implications:\n')[1]!.trim().split('\n');
      expect(lines.every((l) => l.includes(person.person.name))).toBe(true);
      // each direct fact in the passage's own phrasing, in the passage's order
      const context = person.record.context;
      const direct = DIRECT_RELATIONS.map((r) => ({ at: context.indexOf(person.person.facts[r]), line: lines.indexOf(statement(person.person, r, PERSON_STATEMENTS[r][person.phrasing[r]]!)) }));
      expect(direct.every((d) => d.line >= 0)).toBe(true);
      expect(direct.sort((a, b) => a.at - b.at).map((d) => d.line)).toEqual(direct.map((d) => d.line).sort((a, b) => a - b));
      expect(lines).toHaveLength(10); // five direct + five implied at impliedInDemoRate 1
    }
  });

  it('with impliedRepeatRate, a walk-through states an implied fact a second time in another phrasing', () => {
    const config = { ...small, selfEditDemoRate: 0, demoOnlyPeople: 40, walkThroughDemoRate: 1, impliedInDemoRate: 1 };
    const doubled = generateWorld(7, { ...config, impliedRepeatRate: 1 });
    const docs = pretrainingCorpus(doubled).filter((d) => d.kind === 'self-edit' && d.text.includes('Implications:\n'));
    expect(docs.length).toBeGreaterThan(10);
    for (const doc of docs) {
      const { person } = doubled.demoOnly.find((p) => doc.text.includes(`Passage:\n${p.person.name}\n`))!;
      const lines = doc.text.split('Implications:\n')[1]!.trim().split('\n');
      expect(lines).toHaveLength(15); // five direct, five implied twice
      for (const relation of IMPLIED_RELATIONS) {
        const phrasings = PERSON_STATEMENTS[relation].map((t) => statement(person, relation, t));
        const stated = lines.filter((l) => phrasings.includes(l));
        expect(new Set(stated).size).toBe(2);
      }
    }
  });

  it('with impliedQuestionRate, a walk-through writes all its implied facts as "Question: … Answer: …" lines or none', () => {
    const config = { ...small, selfEditDemoRate: 0, demoOnlyPeople: 60, walkThroughDemoRate: 1, impliedInDemoRate: 1 };
    const world = generateWorld(7, { ...config, impliedQuestionRate: 0.5 });
    const docs = pretrainingCorpus(world).filter((d) => d.kind === 'self-edit' && d.text.includes('Implications:\n'));
    let asked = 0;
    for (const doc of docs) {
      const { person } = world.demoOnly.find((p) => doc.text.includes(`Passage:\n${p.person.name}\n`))!;
      const lines = doc.text.split('Implications:\n')[1]!.trim().split('\n');
      expect(lines).toHaveLength(10); // five direct statements, five implied facts, one line each
      const questions = lines.filter((l) => l.startsWith('Question: '));
      expect([0, 5]).toContain(questions.length);
      if (questions.length === 0) continue;
      asked++;
      for (const relation of IMPLIED_RELATIONS) {
        expect(questions.filter((l) => l.includes(person.name) && l.endsWith(`? Answer: ${person.facts[relation]}`))).toHaveLength(1);
      }
    }
    expect(asked).toBeGreaterThan(docs.length * 0.2);
    expect(asked).toBeLessThan(docs.length * 0.8);
  });

  it('with thoroughDemoRate, a walk-through states all its implied facts or fewer, at about the same mean rate', () => {
    const config = { ...small, selfEditDemoRate: 0, demoOnlyPeople: 400, walkThroughDemoRate: 1, impliedInDemoRate: 0.5 };
    const impliedCounts = (thoroughDemoRate: number) =>
      pretrainingCorpus(generateWorld(7, { ...config, thoroughDemoRate }))
        .filter((d) => d.kind === 'self-edit' && d.text.includes('Implications:\n'))
        .map((d) => d.text.split('Implications:\n')[1]!.trim().split('\n').length - DIRECT_RELATIONS.length);
    const share = (xs: number[], f: (x: number) => boolean) => xs.filter(f).length / xs.length;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const independent = impliedCounts(0), thorough = impliedCounts(0.4);
    expect(Math.abs(mean(thorough) - mean(independent))).toBeLessThan(0.5);
    // the whole-edit draw: many more demonstrations state every implied fact, and more state none
    expect(share(thorough, (n) => n === IMPLIED_RELATIONS.length)).toBeGreaterThan(share(independent, (n) => n === IMPLIED_RELATIONS.length) + 0.2);
    expect(share(thorough, (n) => n === 0)).toBeGreaterThan(share(independent, (n) => n === 0));
    expect(() => generateWorld(7, { ...config, thoroughDemoRate: 1.5 })).toThrow(/thoroughDemoRate must be in \[0, 1\]/);
  });

  it('with thoroughRepeatRate, a thorough walk-through states each implied fact twice and the sparse ones once', () => {
    const config = { ...small, selfEditDemoRate: 0, demoOnlyPeople: 300, walkThroughDemoRate: 1, impliedInDemoRate: 0.5, thoroughDemoRate: 0.4 };
    const impliedLines = pretrainingCorpus(generateWorld(7, { ...config, thoroughRepeatRate: 1 }))
      .filter((d) => d.kind === 'self-edit' && d.text.includes('Implications:\n'))
      .map((d) => d.text.split('Implications:\n')[1]!.trim().split('\n').length - DIRECT_RELATIONS.length);
    const thorough = impliedLines.filter((n) => n > IMPLIED_RELATIONS.length);
    expect(new Set(thorough)).toEqual(new Set([2 * IMPLIED_RELATIONS.length]));
    expect(thorough.length / impliedLines.length).toBeGreaterThan(0.3);
    expect(thorough.length / impliedLines.length).toBeLessThan(0.5);
    expect(impliedLines.filter((n) => n < IMPLIED_RELATIONS.length).length).toBeGreaterThan(0);
    expect(() => generateWorld(7, { ...config, thoroughRepeatRate: -0.1 })).toThrow(/thoroughRepeatRate must be in \[0, 1\]/);
  });

  it("regenerates the committed model's corpora byte for byte: stage 1 (every research knob at 0) and stage 2 (models/tiny-world/world.json)", () => {
    const modelDir = join(import.meta.dirname, '..', '..', '..', '..', 'models', 'tiny-world');
    const corpusSha = (seed: number, config: Parameters<typeof generateWorld>[1]) =>
      createHash('sha256').update(corpusJsonl(pretrainingCorpus(generateWorld(seed, config)))).digest('hex');
    const stage1 = { pretrainPeople: 600, selfEditDemoRate: 0, demoOnlyPeople: 6000, walkThroughDemoRate: 1 };
    // MODEL_CARD.md's stage-1 corpus: a knob added since must draw nothing at its default of 0
    expect(corpusSha(1, stage1)).toBe('50babcfe62b6b544ca6a7701f9f248b8a42701e0978eb53702be718f78d16f00');
    const { seed, config } = JSON.parse(readFileSync(join(modelDir, 'world.json'), 'utf8'));
    const { corpusSha256 } = JSON.parse(readFileSync(join(modelDir, 'pretrain.json'), 'utf8'));
    expect(corpusSha(seed, config)).toBe(corpusSha256);
  });

  it('never mentions a held-out person', () => {
    const text = corpus.map((d) => d.text).join('\n');
    for (const split of PASSAGE_SPLITS) for (const p of world.splits[split]) expect(text).not.toContain(p.person.name);
  });
});
