import { Command } from 'commander';
import { register as m } from './commands/model';
import { register as s } from './commands/sft';
import { register as g } from './commands/generate';
import { register as bb } from './commands/bench';
const p = new Command('seal');
m(p); s(p); g(p); bb(p);
await p.parseAsync(process.argv);
