/** @file `seal version`: the SEAL-TS, contract and runtime versions. */
import type { Command } from 'commander';
import { SEAL_SERVICE_NAMES } from '@seal/proto';
import { CLI_VERSION } from '../failure';

export function register(program: Command): void {
  program
    .command('version')
    .description('print the SEAL-TS version, the gRPC contract and the Node.js runtime')
    .action(() => {
      console.log(`seal ${CLI_VERSION}`);
      console.log(`contracts ${SEAL_SERVICE_NAMES.join(', ')}`);
      console.log(`node ${process.version} (${process.platform}-${process.arch})`);
    });
}
