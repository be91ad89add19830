/**
 * @file The `seal` command. Each command lives in ./commands/<name>.ts and exports
 * `register(program)`; add yours to COMMANDS below. Run through the root script
 * (`pnpm seal …`), which preloads telemetry so gRPC calls are traced.
 */
import { Command } from 'commander';
import { flushTelemetry } from '@seal/telemetry';
import { CLI_VERSION, describeFailure } from './failure';

type CommandModule = { register(program: Command): void };

// Loaded lazily: each module pulls in its own heavy dependencies (engine, onnxruntime, gRPC), and
// importing them all cost every `seal` process seconds of start-up before it did anything.
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  demo: () => import('./commands/demo'),
  info: () => import('./commands/info'),
  serve: () => import('./commands/serve'),
  version: () => import('./commands/version'),
  model: () => import('./commands/model'),
  sft: () => import('./commands/sft'),
  generate: () => import('./commands/generate'),
  bench: () => import('./commands/bench'),
  run: () => import('./commands/run'),
  report: () => import('./commands/report'),
  trace: () => import('./commands/trace'),
  pretrain: () => import('./commands/pretrain'),
  eval: () => import('./commands/eval'),
};

const program = new Command('seal')
  .description('SEAL-TS: self-adapting language models (SEAL, arXiv 2506.10943) in TypeScript')
  .version(CLI_VERSION)
  .showSuggestionAfterError()
  .configureOutput({ outputError: (text, write) => write(text.startsWith('error:') ? `seal: ${text}` : text) });
// The named command alone when it is known; every command for --help, suggestions and errors.
const named = process.argv[2];
const wanted = named !== undefined && named in COMMANDS ? [named] : Object.keys(COMMANDS);
for (const name of wanted) (await COMMANDS[name]!()).register(program);

try {
  await program.parseAsync(process.argv);
  await flushTelemetry();
} catch (error) {
  // One line, no stack: failures here are bad input or the environment (busy port, bad config).
  process.stderr.write(`seal: error: ${describeFailure(error)}\n`);
  await flushTelemetry();
  process.exit(1);
}
