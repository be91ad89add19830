/** @file Public API of @seal/tasks: SEAL's knowledge-incorporation data, prompts, rules, grading, and the tiny world. */
export * from './knowledge/squad';
export * from './knowledge/prompts';
export * from './knowledge/train-sequences';
export * from './knowledge/grading';
export * from './knowledge/llm-judge';
export { Prng } from './knowledge/prng';
export * from './knowledge/relations';
export { decadeOf, type City, type Company, type School, type WorldEntities } from './knowledge/entities';
export type { Person, PassagePhrasing, QuestionMix } from './knowledge/person';
export { statement } from './knowledge/person';
export * from './knowledge/world';
export * from './knowledge/pretraining-corpus';
export { DEMO_STYLE_WEIGHTS, walkThroughCompletion } from './knowledge/self-edit-demos';
export * from './knowledge/tokenizer-builder';
export * from './knowledge/world-files';
export * from './knowledge/pretrain';
export * from './knowledge/eval-conditions';
