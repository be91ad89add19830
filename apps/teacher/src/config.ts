/** @file The teacher's config file (`seal serve teacher --config FILE`): server options and model. */
import { z } from 'zod';
import { serverConfigSchema } from '@seal/rpc';

export const teacherConfigSchema = z
  .object({
    server: serverConfigSchema.prefault({}),
    model: z
      .object({
        /** Shown in Info; the model that writes self-edits. */
        name: z.string().min(1).default('seal-tiny'),
        /** Folder of the starting checkpoint (HF layout); empty until a model is configured. */
        path: z.string().default(''),
      })
      .strict()
      .prefault({}),
    /** Where M-step checkpoints are kept, across restarts; empty means a fresh folder under the system temp dir. */
    checkpointDir: z.string().default(''),
  })
  .strict();
export type TeacherConfig = z.infer<typeof teacherConfigSchema>;
