import { describe, expect, it } from 'vitest';
import { tagExpression, validateTag } from './tags.js';

describe('tag expressions', () => {
  it('joins filter tags with ||', () => {
    expect(tagExpression(['TagA', 'TagB'])).toBe('TagA||TagB');
    expect(tagExpression(['TagA'])).toBe('TagA');
  });

  it('subscribes to everything without tags, or when * is among them', () => {
    expect(tagExpression(undefined)).toBe('*');
    expect(tagExpression([])).toBe('*');
    expect(tagExpression(['a', '*'])).toBe('*');
  });

  it('drops duplicates', () => {
    expect(tagExpression(['a', 'b', 'a'])).toBe('a||b');
  });

  it('refuses tags that would change the expression or that the server rejects', () => {
    for (const bad of ['a||b', 'a|b', ' ', '', 'tab\there']) {
      expect(() => tagExpression([bad]), bad).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(() => validateTag('x|y')).toThrow(/must not be blank or contain "\|"/);
    expect(validateTag('Tag-1_ü')).toBe('Tag-1_ü');
  });
});
