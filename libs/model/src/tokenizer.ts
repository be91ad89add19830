/** @file Text ⇄ token ids through `@huggingface/tokenizers`, from a checkpoint's `tokenizer.json` + `tokenizer_config.json`. */
import { Tokenizer } from '@huggingface/tokenizers';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

export interface TextTokenizer {
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  tokenToId(token: string): number | undefined;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly padId: number | null;
  /** The Jinja chat template from tokenizer_config.json, when it has one. */
  readonly chatTemplate: string | null;
  /** Number of distinct ids the tokenizer can emit (≤ the model's vocab_size). */
  readonly size: number;
}

function readJson(path: string): any {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TokenizerError(`${path}: cannot read (${(e as Error).message})`);
  }
}

/** tokenizer_config.json spells special tokens as a string or an AddedToken object `{content: …}`. */
function tokenText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as any).content === 'string') return (value as any).content;
  return null;
}

/** The template named "default" when chat_template is a list of named templates (some checkpoints), else the string. */
function chatTemplateOf(config: any, dir: string): string | null {
  const t = config.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return t.find((x) => x?.name === 'default')?.template ?? null;
  // Newer checkpoints keep it in a separate file.
  const file = join(dir, 'chat_template.jinja');
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

export function loadTokenizer(dir: string): TextTokenizer {
  const jsonPath = join(dir, 'tokenizer.json');
  if (!existsSync(jsonPath)) throw new TokenizerError(`${jsonPath}: file not found (only fast tokenizers, tokenizer.json, are supported)`);
  const tokenizerJson = readJson(jsonPath);
  const configPath = join(dir, 'tokenizer_config.json');
  const config = existsSync(configPath) ? readJson(configPath) : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson, config);
  } catch (e) {
    throw new TokenizerError(`${jsonPath}: cannot build tokenizer (${(e as Error).message})`);
  }
  const idOf = (text: string | null) => (text === null ? null : (tokenizer.token_to_id(text) ?? null));
  const bosToken = tokenText(config.bos_token);
  const eosToken = tokenText(config.eos_token);
  return {
    encode: (text, options = {}) => tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids,
    decode: (ids, options = {}) => tokenizer.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false }),
    tokenToId: (token) => tokenizer.token_to_id(token),
    bosToken,
    eosToken,
    bosId: idOf(bosToken),
    eosId: idOf(eosToken),
    padId: idOf(tokenText(config.pad_token)),
    chatTemplate: chatTemplateOf(config, dir),
    size: tokenizer.get_vocab(true).size,
  };
}
