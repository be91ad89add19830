/**
 * @file The `seal` command. Each command lives in ./commands/<name>.ts and exports
 * `register(program)`; add yours to COMMANDS below. Run through the root script
 * (`pnpm seal …`), which preloads telemetry so gRPC calls are traced.
 */
import { Command } from 'commander';
import { flushTelemetry } from '@seal/telemetry';
import * as bench from './commands/bench';
import * as demo from './commands/demo';
import * as evalCommand from './commands/eval';
import * as generate from './commands/generate';
import * as info from './commands/info';
import * as model from './commands/model';
import * as pretrain from './commands/pretrain';
import * as report from './commands/report';
import * as run from './commands/run';
import * as serve from './commands/serve';
import * as sft from './commands/sft';
import * as trace from './commands/trace';
import * as version from './commands/version';
import { CLI_VERSION, describeFailure } from './failure';

const COMMANDS: { register(program: Command): void }[] = [demo, info, serve, version, model, sft, generate, bench, run, report, trace, pretrain, evalCommand];

const program = new Command('seal')
  .description('SEAL-TS: self-adapting language models (SEAL, arXiv 2506.10943) in TypeScript')
  .version(CLI_VERSION)
  .showSuggestionAfterError()
  .configureOutput({ outputError: (text, write) => write(text.startsWith('error:') ? `seal: ${text}` : text) });
for (const command of COMMANDS) command.register(program);

try {
  await program.parseAsync(process.argv);
  await flushTelemetry();
} catch (error) {
  // One line, no stack: failures here are bad input or the environment (busy port, bad config).
  process.stderr.write(`seal: error: ${describeFailure(error)}\n`);
  await flushTelemetry();
  process.exit(1);
}
