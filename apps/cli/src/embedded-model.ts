/** @file Where the committed tiny-world model lives: the default of every command that needs a model. */
import { resolve } from 'node:path';

/** `models/tiny-world` at the repository root (config.json, model.safetensors, tokenizer.json, world.json). */
export const EMBEDDED_MODEL_DIR = resolve(import.meta.dirname, '..', '..', '..', 'models', 'tiny-world');
