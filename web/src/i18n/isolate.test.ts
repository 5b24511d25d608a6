import { describe, expect, it } from 'vitest';
import i18n from './index';

describe('values put into sentences', () => {
  it('are isolated, so a right-to-left name or one ending in digits cannot reorder the words around it', async () => {
    await i18n.changeLanguage('en');
    const name = 'محمد 2';
    expect(i18n.t('chat.typing.two', { first: name, second: 'bob' })).toBe(
      '\u2068محمد 2\u2069 and \u2068bob\u2069 are typing…',
    );
    // HTML is left to React: markup in a name is text, not escaped twice.
    expect(i18n.t('chat.typing.one', { name: '<b>&' })).toBe('\u2068<b>&\u2069 is typing…');
  });
});
