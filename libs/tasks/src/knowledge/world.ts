/**
 * @file The tiny world: `generateWorld(seed, config)` draws the world's places and organisations,
 * pretraining people, and the disjoint RL-train / validation / test passages with their oracle
 * self-edits. Same seed and config → the same world, byte for byte.
 */
import { generateEntities, type WorldEntities, type WorldEntitySizes } from './entities';
import { drawPerson, drawPhrasing, oracleCompletion, passageRecord, renderPassage, type PassagePhrasing, type Person, type QuestionMix } from './person';
import { Prng } from './prng';
import { selfEditPrompt } from './prompts';
import type { KnowledgePassage, SelfEditRecord } from './squad';
import { buildTrainSequences } from './train-sequences';

export interface WorldConfig extends WorldEntitySizes, QuestionMix {
  /** People the model learns in pretraining (bios, QA, self-edit demonstrations). */
  pretrainPeople: number;
  /** Held-out passages per split; people in different splits are disjoint. */
  rlTrainPassages: number;
  valPassages: number;
  testPassages: number;
  /** Share of pretraining people that also get a self-edit demonstration. */
  selfEditDemoRate: number;
  /**
   * People who appear in the corpus only inside one self-edit demonstration. A demonstration about
   * someone the corpus also describes elsewhere can be completed from memory; for these people the
   * only way to write the right facts is to read them from the prompt's passage — the skill a
   * self-edit of a new passage needs.
   */
  demoOnlyPeople: number;
  /** Chance that an implications-style demonstration walks the passage sentence by sentence (see `walkThroughCompletion`). */
  walkThroughDemoRate: number;
  /** Chance that a demonstration writes out each implied fact (mixed quality on purpose). */
  impliedInDemoRate: number;
  /**
   * Chance that a walk-through demonstration states an implied fact it writes a second time, in
   * another phrasing. The student absorbs a fact stated twice far better than once (BENCHMARKS.md),
   * so this gives the base policy a variation that the reward can see and RL can amplify.
   */
  impliedRepeatRate: number;
  /**
   * Chance that a walk-through demonstration writes its implied facts as "Question: … Answer: …"
   * lines instead of statements. The student absorbs a fact in that form about twice as well
   * (BENCHMARKS.md), so the base policy sometimes writes the form that helps most: a choice of
   * format the reward can see and RL can amplify, as SEAL's RL learned which self-edits help.
   */
  impliedQuestionRate: number;
  /**
   * Chance that a walk-through demonstration states every implied fact; the others state each at
   * the rate that keeps the mean at `impliedInDemoRate`. Independent per-fact omissions give the
   * edits of one passage little to choose between; a thorough-or-sparse draw per demonstration
   * gives the base policy a whole-edit variation the reward can see and the M-step can copy.
   */
  thoroughDemoRate: number;
  /**
   * In a thorough walk-through, the chance that each implied fact gets a second line in another
   * phrasing (in place of `impliedRepeatRate` there). A fact stated twice is absorbed far better,
   * so the thorough-or-sparse choice then moves an edit's reward by more than the reward's noise.
   */
  thoroughRepeatRate: number;
  /** Times each world fact is stated (in rotating phrasings) in the pretraining corpus. */
  worldFactRepeats: number;
  /** Bios (all facts, fresh phrasings each) per pretraining person. */
  biosPerPerson: number;
}

/** Defaults sized for a ≤ 10M-parameter model pretrained ≤ 60 min on 2 CPU cores (≈1M tokens/epoch). */
export const DEFAULT_WORLD_CONFIG: WorldConfig = {
  countries: 16,
  cities: 48,
  companies: 36,
  schools: 24,
  industries: 12,
  fields: 16,
  firstNames: 300,
  lastNames: 300,
  firstYear: 1930,
  lastYear: 2009,
  pretrainPeople: 2000,
  rlTrainPassages: 200,
  valPassages: 100,
  testPassages: 120,
  impliedQuestions: 4,
  directQuestionRate: 0.4,
  selfEditDemoRate: 0.7,
  demoOnlyPeople: 0,
  walkThroughDemoRate: 0,
  impliedInDemoRate: 0.35,
  impliedRepeatRate: 0,
  impliedQuestionRate: 0,
  thoroughDemoRate: 0,
  thoroughRepeatRate: 0,
  worldFactRepeats: 4,
  biosPerPerson: 1,
};

export const PASSAGE_SPLITS = ['rl-train', 'val', 'test'] as const;
export type PassageSplit = (typeof PASSAGE_SPLITS)[number];

/** A person of the world with the passage written about them. */
export interface WorldPerson {
  person: Person;
  phrasing: PassagePhrasing;
  /** The passage in SEAL's format, with its questions (pretraining people have no questions here). */
  record: KnowledgePassage;
}

/** A held-out passage plus its gold self-edit. */
export interface WorldPassage extends WorldPerson {
  /** Gold restatements and implications, one per line: the oracle condition's self-edit. */
  oracle: string;
}

export interface World {
  seed: number;
  config: WorldConfig;
  entities: WorldEntities;
  pretrain: WorldPerson[];
  /** People known to the corpus only through one self-edit demonstration each (`demoOnlyPeople`). */
  demoOnly: WorldPerson[];
  splits: Record<PassageSplit, WorldPassage[]>;
}

function checkConfig(config: WorldConfig): void {
  const counts = ['pretrainPeople', 'demoOnlyPeople', 'rlTrainPassages', 'valPassages', 'testPassages', 'worldFactRepeats', 'biosPerPerson'] as const;
  for (const key of counts) {
    if (!Number.isInteger(config[key]) || config[key] < 0) throw new Error(`world config: ${key} must be a non-negative integer, got ${config[key]}`);
  }
  const rates = ['directQuestionRate', 'selfEditDemoRate', 'impliedInDemoRate', 'walkThroughDemoRate', 'impliedRepeatRate', 'impliedQuestionRate', 'thoroughDemoRate', 'thoroughRepeatRate'] as const;
  for (const key of rates) {
    if (!(config[key] >= 0 && config[key] <= 1)) throw new Error(`world config: ${key} must be in [0, 1], got ${config[key]}`);
  }
  if (!Number.isInteger(config.impliedQuestions) || config.impliedQuestions < 1 || config.impliedQuestions > 5) {
    throw new Error(`world config: impliedQuestions must be in 1..5, got ${config.impliedQuestions}`);
  }
  const people = config.pretrainPeople + config.demoOnlyPeople + config.rlTrainPassages + config.valPassages + config.testPassages;
  if (people > 0.5 * config.firstNames * config.lastNames) {
    throw new Error(`world config: ${people} people need more names than firstNames × lastNames / 2 = ${(config.firstNames * config.lastNames) / 2}`);
  }
}

export function generateWorld(seed: number, overrides: Partial<WorldConfig> = {}): World {
  const config: WorldConfig = { ...DEFAULT_WORLD_CONFIG, ...overrides };
  checkConfig(config);
  const root = new Prng(seed);
  // Separate streams: resizing one split leaves the others (and the places) unchanged.
  const entities = generateEntities(root.fork('entities'), config);
  const usedNames = new Set<string>();
  const draw = (rng: Prng): WorldPerson => {
    const person = drawPerson(rng, entities, usedNames);
    const phrasing = drawPhrasing(rng);
    return { person, phrasing, record: { title: person.name, context: renderPassage(rng, person, phrasing), questions: [] } };
  };
  const heldOut = (label: string, count: number): WorldPassage[] => {
    const rng = root.fork(label);
    return Array.from({ length: count }, () => {
      const person = drawPerson(rng, entities, usedNames);
      const phrasing = drawPhrasing(rng);
      return { person, phrasing, record: passageRecord(rng, person, phrasing, config), oracle: oracleCompletion(rng, person, phrasing) };
    });
  };
  // Held-out people are drawn first so their names do not depend on the pretraining size.
  const splits = {
    test: heldOut('test', config.testPassages),
    val: heldOut('val', config.valPassages),
    'rl-train': heldOut('rl-train', config.rlTrainPassages),
  };
  const pretrainRng = root.fork('pretrain');
  const pretrain = Array.from({ length: config.pretrainPeople }, () => draw(pretrainRng));
  // Drawn last, from their own stream: adding them leaves every other person of the world as it was.
  const demoRng = root.fork('demo-only');
  const demoOnly = Array.from({ length: config.demoOnlyPeople }, () => draw(demoRng));
  return { seed, config, entities, pretrain, demoOnly, splits };
}

/** A split's passages in SEAL's `{title, context, questions}` format. */
export function splitPassages(world: World, split: PassageSplit): KnowledgePassage[] {
  const passages = world.splits[split];
  if (!passages) throw new Error(`unknown split "${split}" (known: ${Object.keys(world.splits).join(', ')})`);
  return passages.map((p) => p.record);
}

/** The oracle self-edits of a split, in SEAL's synthetic-data format (like `gpt4_1_val.json`, k = 1). */
export function oracleRecords(world: World, split: PassageSplit): SelfEditRecord[] {
  return world.splits[split].map((p) => ({ ...p.record, prompt: selfEditPrompt(p.record), completions: [p.oracle] }));
}

/** The oracle condition's training sequences for each passage of a split. */
export function oracleSequences(world: World, split: PassageSplit): { title: string; sequences: string[] }[] {
  return world.splits[split].map((p) => ({ title: p.record.title, sequences: buildTrainSequences(p.record, p.oracle) }));
}
