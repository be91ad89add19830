import { describe, expect, it } from 'vitest';
import { DIRECT_RELATIONS, PERSON_STATEMENTS, type PersonRelation } from './relations';

/** The word right before `{v}` in a template, or '' when the value starts the sentence. */
const cueOf = (template: string) => template.slice(0, template.indexOf('{v}')).trim().split(/\s+/).at(-1) ?? '';

describe('person statement phrasings', () => {
  it('give every direct fact one cue word before its value that no other phrasing puts before a value', () => {
    const cues = new Map<PersonRelation, Set<string>>();
    for (const [relation, templates] of Object.entries(PERSON_STATEMENTS) as [PersonRelation, readonly string[]][]) {
      cues.set(relation, new Set(templates.map(cueOf)));
    }
    for (const relation of DIRECT_RELATIONS) {
      const own = [...cues.get(relation)!];
      expect(own, relation).toHaveLength(1);
      expect(own[0], `${relation} starts a sentence with its value`).not.toBe('');
      for (const [other, otherCues] of cues) {
        if (other !== relation) expect(otherCues.has(own[0]!), `${relation} and ${other} share the cue "${own[0]}"`).toBe(false);
      }
    }
  });
});
