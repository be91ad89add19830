/** @file Public API of @seal/cli: the pieces tests and tools reuse (the program itself is ./main). */
export { runDemo } from './commands/demo';
export { integerIn, serve } from './commands/serve';
export { describeFailure } from './failure';
