/** @file Public API of @seal/tasks: SEAL's knowledge-incorporation data, prompts, rules and grading. */
export * from './knowledge/squad';
export * from './knowledge/prompts';
export * from './knowledge/train-sequences';
export * from './knowledge/grading';
export * from './knowledge/llm-judge';
export { Prng } from './knowledge/prng';
