import { describe, expect, it } from 'vitest';
import { profilePatch, profileValues, rebaseDraft } from './profileDraft';

const base = profileValues({ display_name: 'Ana', bio: null, pronouns: 'she/her', accent_color: null });

describe('profile draft', () => {
  it('sends only the fields the user changed, blanks as null', () => {
    expect(profilePatch(base, base)).toEqual({});
    expect(profilePatch(base, { ...base, bio: ' oi ' })).toEqual({ bio: 'oi' });
    expect(profilePatch(base, { ...base, pronouns: '  ', accent_color: 255 })).toEqual({ pronouns: null, accent_color: 255 });
  });

  it('lets a change made elsewhere into the fields not touched here', () => {
    const draft = { ...base, bio: 'meu bio' };
    const elsewhere = { ...base, pronouns: 'they/them', bio: 'outro' };
    expect(rebaseDraft(base, draft, elsewhere)).toEqual({ ...base, pronouns: 'they/them', bio: 'meu bio' });
  });
});
