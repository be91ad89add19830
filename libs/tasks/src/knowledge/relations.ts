/**
 * @file The tiny world's relations and every phrasing of them: how a fact about a person or a
 * place is stated, and how it is asked. Direct relations are what a passage states; implied
 * relations follow from one direct fact plus world knowledge (birth city → its country, …).
 */

/** Facts a passage states outright. */
export const DIRECT_RELATIONS = ['birthCity', 'birthYear', 'employer', 'school', 'field'] as const;
/** Facts that need one step of world knowledge from a direct fact. */
export const IMPLIED_RELATIONS = ['birthCountry', 'birthDecade', 'industry', 'workCity', 'schoolCity'] as const;

export type DirectRelation = (typeof DIRECT_RELATIONS)[number];
export type ImpliedRelation = (typeof IMPLIED_RELATIONS)[number];
export type PersonRelation = DirectRelation | ImpliedRelation;

/** Which direct fact and which world-knowledge table each implied fact comes from. */
export const IMPLIED_FROM: Record<ImpliedRelation, { from: DirectRelation; via: string }> = {
  birthCountry: { from: 'birthCity', via: 'city → country' },
  birthDecade: { from: 'birthYear', via: 'year → decade' },
  industry: { from: 'employer', via: 'company → industry' },
  workCity: { from: 'employer', via: 'company → headquarters city' },
  schoolCity: { from: 'school', via: 'school → city' },
};

export function isImplied(relation: PersonRelation): relation is ImpliedRelation {
  return (IMPLIED_RELATIONS as readonly string[]).includes(relation);
}

/**
 * Statement templates. `{s}` is the sentence subject (the name, or He/She inside a passage),
 * `{p}` the possessive subject ("Ada Lovel's", His/Her), `{n}` always the name, `{v}` the value.
 * NOTE: `{s}`/`{p}` only ever start a sentence, so the pronoun needs no re-casing.
 *
 * Every phrasing of a direct fact ends in a word only that relation uses right before its value
 * ("town", "year", "by", "at", "on"), and none starts with the value. A small model copies a value
 * from the prompt by induction: it finds the previous occurrence of the word it just wrote and
 * copies what followed. A cue word shared by two relations ("is", "in"), or a value with no cue
 * before it, made the first 3.7M model copy the wrong value in about two lines of three of its
 * self-edits (libs/tasks/README.md). Implied facts are never copied, so their phrasings are free.
 */
export const PERSON_STATEMENTS: Record<PersonRelation, readonly string[]> = {
  birthCity: ['{s} was born in the town {v}.', '{p} birthplace is the town {v}.', '{s} is originally from the town {v}.'],
  birthYear: ['{s} was born in the year {v}.', '{s} came into the world in the year {v}.', '{p} life began in the year {v}.'],
  employer: ['{s} is employed by {v}.', '{s} was hired by {v}.', '{s} is paid by {v}.'],
  school: ['{s} studied at {v}.', '{s} was educated at {v}.', '{s} earned a degree at {v}.'],
  field: ['{s} is an expert on {v}.', '{s} does research on {v}.', '{s} writes papers on {v}.'],
  birthCountry: ['{s} was born in the country of {v}.', '{s} is a native of {v}.', '{p} home country is {v}.', '{s} comes from {v}.'],
  birthDecade: ['{s} was born in the {v}.', '{p} birth decade is the {v}.', '{s} was born during the {v}.'],
  industry: ['{s} works in the {v} industry.', '{p} industry is {v}.', '{s} has a career in {v}.'],
  workCity: ['{s} works in the city of {v}.', "{p} workplace is in {v}.", '{s} goes to work in {v}.'],
  schoolCity: ['{s} went to school in {v}.', '{s} studied in the city of {v}.', "{p} school is located in {v}."],
};

/** Question templates; `{n}` is the name. Answers are the bare value. */
export const PERSON_QUESTIONS: Record<PersonRelation, readonly string[]> = {
  birthCity: ['In which city was {n} born?', "What is {n}'s birthplace?", 'Which city is {n} from originally?'],
  birthYear: ['In which year was {n} born?', "What is {n}'s year of birth?", 'What year was {n} born in?'],
  employer: ['Which company does {n} work for?', 'Who employs {n}?', "What is {n}'s employer?"],
  school: ['Which school did {n} attend?', 'From which school did {n} graduate?', "What is {n}'s alma mater?"],
  field: ["What is {n}'s field?", 'What does {n} specialize in?', 'In which field is {n} an expert?'],
  birthCountry: ['In which country was {n} born?', "What is {n}'s home country?", 'Which country does {n} come from?'],
  birthDecade: ['In which decade was {n} born?', 'What decade was {n} born in?', "What is {n}'s birth decade?"],
  industry: ['In which industry does {n} work?', "What is {n}'s industry?", 'Which industry is {n} employed in?'],
  workCity: ['In which city does {n} work?', "Where is {n}'s workplace?", 'Which city does {n} work in?'],
  schoolCity: ['In which city did {n} go to school?', "Where is {n}'s school located?", 'Which city did {n} study in?'],
};

/** World-knowledge relations between places, organisations and years. */
export const WORLD_RELATIONS = ['cityCountry', 'companyIndustry', 'companyCity', 'schoolCity', 'yearDecade'] as const;
export type WorldRelation = (typeof WORLD_RELATIONS)[number];

/** `{e}` is the entity (city, company, school, year), `{v}` the value. */
export const WORLD_STATEMENTS: Record<WorldRelation, readonly string[]> = {
  cityCountry: ['{e} is a city in {v}.', '{e} lies in {v}.', 'The city of {e} is in {v}.', '{v} is the country where {e} is located.'],
  companyIndustry: ['{e} is a company in the {v} industry.', '{e} operates in the {v} industry.', 'The industry of {e} is {v}.'],
  companyCity: ['{e} is headquartered in {v}.', 'The headquarters of {e} are in {v}.', '{e} has its offices in {v}.'],
  schoolCity: ['{e} is located in {v}.', '{e} is a school in the city of {v}.', 'The campus of {e} is in {v}.'],
  yearDecade: ['The year {e} is in the {v}.', '{e} falls in the {v}.', 'The year {e} belongs to the {v}.'],
};

export const WORLD_QUESTIONS: Record<WorldRelation, readonly string[]> = {
  cityCountry: ['In which country is {e}?', 'Which country is {e} in?'],
  companyIndustry: ['In which industry does {e} operate?', 'What industry is {e} in?'],
  companyCity: ['Where is {e} headquartered?', 'In which city are the headquarters of {e}?'],
  schoolCity: ['In which city is {e}?', 'Where is {e} located?'],
  yearDecade: ['In which decade is the year {e}?', 'Which decade does {e} belong to?'],
};

/** Fill a template. Values are inserted by function so `$` sequences stay literal. */
export function fillTemplate(template: string, slots: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const value = slots[key];
    if (value === undefined) throw new Error(`template "${template}" needs {${key}}`);
    return value;
  });
}
