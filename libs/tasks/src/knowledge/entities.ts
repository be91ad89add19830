/**
 * @file The tiny world's fixed knowledge: invented countries, cities, companies, schools, and the
 * industries, fields and years they relate to. Every invented word is unique across the world, so
 * a name never means two things.
 */
import type { Prng } from './prng';

/** Real English words: the model learns them as opaque labels, but they read naturally. */
const INDUSTRIES = [
  'mining', 'shipping', 'banking', 'farming', 'software', 'textiles', 'aviation', 'publishing',
  'robotics', 'tourism', 'energy', 'insurance', 'fishing', 'forestry', 'brewing', 'retail',
] as const;
const FIELDS = [
  'botany', 'geology', 'chemistry', 'linguistics', 'economics', 'astronomy', 'zoology', 'history',
  'statistics', 'architecture', 'music', 'law', 'physics', 'philosophy', 'genetics', 'optics',
  'ecology', 'sociology', 'topology', 'acoustics',
] as const;
const SCHOOL_KINDS = ['University', 'College', 'Institute', 'Academy'] as const;

export interface WorldEntitySizes {
  countries: number;
  cities: number;
  companies: number;
  schools: number;
  industries: number;
  fields: number;
  firstNames: number;
  lastNames: number;
  /** First and last birth year, inclusive. */
  firstYear: number;
  lastYear: number;
}

export interface City {
  name: string;
  country: string;
}
export interface Company {
  name: string;
  industry: string;
  city: string;
}
export interface School {
  name: string;
  city: string;
}

export interface WorldEntities {
  countries: string[];
  cities: City[];
  companies: Company[];
  schools: School[];
  industries: string[];
  fields: string[];
  firstNames: string[];
  lastNames: string[];
  years: number[];
}

/** "1987" → "1980s". */
export function decadeOf(year: number): string {
  return `${Math.floor(year / 10) * 10}s`;
}

const ONSETS = ['b', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'dr', 'kr', 'st', 'th', 'sh'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ei', 'ou'];
const CODAS = ['', '', '', 'n', 'r', 'l', 's', 'k', 'th'];

/** Draws pronounceable invented words, never the same one twice across the whole world. */
class WordForge {
  private readonly used = new Set<string>();
  constructor(private readonly rng: Prng) {}

  word(syllables: [number, number], suffixes: readonly string[] = ['']): string {
    for (let tries = 0; tries < 10_000; tries++) {
      const n = syllables[0] + this.rng.int(syllables[1] - syllables[0] + 1);
      let w = '';
      for (let i = 0; i < n; i++) w += this.rng.pick(ONSETS) + this.rng.pick(VOWELS);
      w += this.rng.pick(CODAS) + this.rng.pick(suffixes);
      const word = w[0]!.toUpperCase() + w.slice(1);
      if (word.length <= 11 && !this.used.has(word)) {
        this.used.add(word);
        return word;
      }
    }
    throw new Error('WordForge: ran out of distinct invented words; lower the world sizes');
  }

  words(count: number, syllables: [number, number], suffixes?: readonly string[]): string[] {
    return Array.from({ length: count }, () => this.word(syllables, suffixes));
  }
}

function requireAtMost(what: string, asked: number, available: number): void {
  if (!Number.isInteger(asked) || asked < 1 || asked > available) {
    throw new Error(`world sizes: ${what} must be an integer in 1..${available}, got ${asked}`);
  }
}

/** Every entity is used: each country has a city, each industry a company, each city appears somewhere. */
export function generateEntities(rng: Prng, sizes: WorldEntitySizes): WorldEntities {
  requireAtMost('industries', sizes.industries, INDUSTRIES.length);
  requireAtMost('fields', sizes.fields, FIELDS.length);
  requireAtMost('countries', sizes.countries, sizes.cities);
  requireAtMost('industries', sizes.industries, sizes.companies);
  if (sizes.firstYear > sizes.lastYear) throw new Error(`world sizes: firstYear ${sizes.firstYear} > lastYear ${sizes.lastYear}`);

  const forge = new WordForge(rng);
  const countries = forge.words(sizes.countries, [2, 2], ['ia', 'land', 'stan', 'ora']);
  const cityNames = forge.words(sizes.cities, [2, 3]);
  // Round-robin first so every country has cities, then shuffle which city gets which country.
  const cityCountries = rng.shuffle(cityNames.map((_, i) => countries[i % countries.length]!));
  const cities = cityNames.map((name, i) => ({ name, country: cityCountries[i]! }));

  const industries = rng.sample(INDUSTRIES, sizes.industries);
  const companyIndustries = rng.shuffle(Array.from({ length: sizes.companies }, (_, i) => industries[i % industries.length]!));
  const companies = forge
    .words(sizes.companies, [2, 2], ['corp', 'tek', 'ex', 'ware', 'co'])
    .map((name, i) => ({ name, industry: companyIndustries[i]!, city: rng.pick(cities).name }));

  const schools = forge
    .words(sizes.schools, [2, 2])
    .map((root) => ({ name: `${root} ${rng.pick(SCHOOL_KINDS)}`, city: rng.pick(cities).name }));

  const years: number[] = [];
  for (let y = sizes.firstYear; y <= sizes.lastYear; y++) years.push(y);

  return {
    countries,
    cities,
    companies,
    schools,
    industries,
    fields: rng.sample(FIELDS, sizes.fields),
    firstNames: forge.words(sizes.firstNames, [2, 2], ['', 'a', 'o', 'en']),
    lastNames: forge.words(sizes.lastNames, [2, 3]),
    years,
  };
}
