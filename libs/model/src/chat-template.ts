/** @file Renders chat messages with a checkpoint's Jinja chat template through `@huggingface/jinja`. */
import { Template } from '@huggingface/jinja';
import type { TextTokenizer } from './tokenizer';

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant' | (string & {});
  readonly content: string;
}

export class ChatTemplateError extends Error {
  override name = 'ChatTemplateError';
}

export interface RenderOptions {
  addGenerationPrompt?: boolean;
}

/**
 * Renders `messages` with the tokenizer's template, as `apply_chat_template(tokenize=False)` does.
 * `strftime_now` and `raise_exception` (used by Llama 3.x templates) are jinja's built-ins.
 */
export function renderChat(tokenizer: TextTokenizer, messages: readonly ChatMessage[], options: RenderOptions = {}): string {
  if (!tokenizer.chatTemplate) throw new ChatTemplateError('tokenizer_config.json has no "chat_template"; use a plain prompt instead of --chat');
  let template: Template;
  try {
    template = new Template(tokenizer.chatTemplate);
  } catch (e) {
    throw new ChatTemplateError(`tokenizer_config.json: field "chat_template" does not parse (${(e as Error).message})`);
  }
  return template.render({
    messages,
    add_generation_prompt: options.addGenerationPrompt ?? true,
    bos_token: tokenizer.bosToken ?? '',
    eos_token: tokenizer.eosToken ?? '',
  });
}
