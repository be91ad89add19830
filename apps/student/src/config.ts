/** @file The student's config file (`seal serve student --config FILE`): server options, model, workers. */
import { z } from 'zod';
import { serverConfigSchema } from '@seal/rpc';

export const studentConfigSchema = z
  .object({
    server: serverConfigSchema.prefault({}),
    model: z
      .object({
        /** Shown in Info; the base model this student adapts. */
        name: z.string().min(1).default('seal-tiny'),
        /** Folder of the base checkpoint (HF layout); empty until a model is configured. */
        path: z.string().default(''),
      })
      .strict()
      .prefault({}),
    /** Evaluations run at once (Info.capacity); each takes a core on CPU. */
    workers: z.number().int().min(1).max(256).default(1),
    /** Stable replica name for progress and the journal; defaults to host:port. */
    studentId: z.string().min(1).optional(),
    /** Root that LoadCheckpoint's shared_path is confined to; empty disables by-reference loads. */
    sharedStorageRoot: z.string().default(''),
    /** Where pushed checkpoints are kept; empty means a fresh folder under the system temp dir. */
    storeDir: z.string().default(''),
  })
  .strict();
export type StudentConfig = z.infer<typeof studentConfigSchema>;
