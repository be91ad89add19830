/**
 * @file Builds a Hugging Face `tokenizer.json` (+ `tokenizer_config.json`) for the tiny world's
 * closed vocabulary: every world word is one token, anything else falls back to characters.
 *
 * Shape (all standard components, loadable by `@huggingface/tokenizers` and the Rust crate):
 * - normalizer: prepend a space, and a space after each newline that starts a line of text, so a
 *   word is always " word" (GPT-2-style leading space) whether it opens a line or not — one token
 *   per word instead of two ("Kelland" / " Kelland");
 * - pre-tokenizer: a Split regex isolating "\n", " word", " 1987", punctuation;
 * - model: WordPiece with an empty continuation prefix = greedy longest match over the vocabulary,
 *   which contains every single printable ASCII character (and " " + character), so no ASCII text
 *   is ever <unk>;
 * - decoder: join, undo the normaliser's spaces (Replace "\n " → "\n", Strip one leading space);
 * - post-processor: <bos> first, as Llama does.
 */
import { Tokenizer } from '@huggingface/tokenizers';

export const SPECIAL_TOKENS = { pad: '<pad>', bos: '<bos>', eos: '<eos>', unk: '<unk>' } as const;

/**
 * Pre-tokenizer pattern (Oniguruma/JS compatible): newline, " word", " number", one punctuation
 * mark, else one whitespace character — so in a run of spaces the last one still joins the word.
 */
const SPLIT_PATTERN = String.raw`\n| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]|\s`;
/** A newline followed by text gets a space after it; a final newline stays bare, so a prompt ending in "Answer:\n" ends in the same token it had in training. */
const NEWLINE_PATTERN = String.raw`\n(?=[^\n])`;

/**
 * Trailing spaces are dropped: no training text ends in one, and a prompt that does (SEAL's
 * self-qa prompt ends in "Question 1: ") would otherwise end in a lone " " token the model never
 * saw before a word. The price: decode(encode(text)) loses trailing spaces.
 */
const TRAILING_SPACES = String.raw` +\z`;

/** The normaliser, in TypeScript, exactly as the JSON config applies it. */
function normalize(text: string): string {
  return ` ${text.replace(new RegExp(NEWLINE_PATTERN, 'g'), '\n ').replace(/ +$/, '')}`;
}

/** The pre-tokens of a text, as the tokenizer's normaliser + Split see them. */
export function preTokenize(text: string): string[] {
  return normalize(text).match(new RegExp(SPLIT_PATTERN, 'g')) ?? [];
}

export interface TokenizerBuildOptions {
  /** Upper bound on the vocabulary, special tokens included. */
  maxVocab?: number;
  /** Words seen fewer times stay out (they still tokenize, as characters). */
  minCount?: number;
  /** Longest sequence the model is meant to see; recorded in tokenizer_config.json. */
  modelMaxLength?: number;
}

export interface TokenizerFiles {
  /** Contents of `tokenizer.json`. */
  tokenizer: Record<string, unknown>;
  /** Contents of `tokenizer_config.json`. */
  config: Record<string, unknown>;
  /** Word pre-tokens left out because of maxVocab (0 for the tiny world). */
  droppedWords: number;
}

/** Characters every vocabulary holds so nothing ASCII is unknown: printable ASCII, alone and after a space. */
function fallbackPieces(): string[] {
  const pieces = ['\n'];
  for (let c = 0x20; c <= 0x7e; c++) pieces.push(String.fromCharCode(c));
  for (let c = 0x21; c <= 0x7e; c++) pieces.push(` ${String.fromCharCode(c)}`);
  return pieces;
}

/** Build the tokenizer files from every text the model will see (corpus, passages, prompts). */
export function buildTokenizer(texts: Iterable<string>, options: TokenizerBuildOptions = {}): TokenizerFiles {
  const { maxVocab = 2048, minCount = 1, modelMaxLength = 512 } = options;
  const vocab = new Map<string, number>();
  const add = (piece: string) => {
    if (!vocab.has(piece)) vocab.set(piece, vocab.size);
  };
  Object.values(SPECIAL_TOKENS).forEach(add);
  fallbackPieces().forEach(add);
  if (vocab.size > maxVocab) throw new Error(`tokenizer: maxVocab ${maxVocab} is below the ${vocab.size} base pieces`);

  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const piece of preTokenize(text)) if (!vocab.has(piece)) counts.set(piece, (counts.get(piece) ?? 0) + 1);
  }
  // Most frequent first; ties alphabetically, so the ids are deterministic.
  const words = [...counts].filter(([, n]) => n >= minCount).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const room = maxVocab - vocab.size;
  words.slice(0, room).forEach(([piece]) => add(piece));

  const special = Object.values(SPECIAL_TOKENS).map((content) => ({
    id: vocab.get(content)!,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const bos = SPECIAL_TOKENS.bos;
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special,
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Replace', pattern: { Regex: NEWLINE_PATTERN }, content: '\n ' },
        { type: 'Replace', pattern: { Regex: TRAILING_SPACES }, content: '' },
        { type: 'Prepend', prepend: ' ' },
      ],
    },
    pre_tokenizer: { type: 'Split', pattern: { Regex: SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: bos, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: bos, type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { [bos]: { id: bos, ids: [vocab.get(bos)!], tokens: [bos] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Fuse' },
        { type: 'Replace', pattern: { String: '\n ' }, content: '\n' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: {
      type: 'WordPiece',
      unk_token: SPECIAL_TOKENS.unk,
      continuing_subword_prefix: '',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab),
    },
  };
  const config = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: SPECIAL_TOKENS.bos,
    eos_token: SPECIAL_TOKENS.eos,
    pad_token: SPECIAL_TOKENS.pad,
    unk_token: SPECIAL_TOKENS.unk,
    add_bos_token: true,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: modelMaxLength,
  };
  return { tokenizer, config, droppedWords: Math.max(0, words.length - room) };
}

/** Load built (or saved) tokenizer files through the same library real checkpoints use. */
export function loadTokenizer(files: Pick<TokenizerFiles, 'tokenizer' | 'config'>): Tokenizer {
  return new Tokenizer(files.tokenizer, files.config);
}
