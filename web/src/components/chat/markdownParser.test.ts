import { describe, expect, it } from 'vitest';
import { parseMarkdown, plainText, safeHref, type MdNode } from './markdownParser';

const text = (t: string): MdNode => ({ type: 'text', text: t });

describe('markdown: inline styles', () => {
  it('leaves plain text alone (newlines included)', () => {
    expect(parseMarkdown('hello\nworld')).toEqual([text('hello\nworld')]);
    expect(parseMarkdown('')).toEqual([]);
  });

  it('parses bold, italic, underline, strike and spoilers', () => {
    expect(parseMarkdown('a **b** c')).toEqual([text('a '), { type: 'bold', children: [text('b')] }, text(' c')]);
    expect(parseMarkdown('*i*')).toEqual([{ type: 'italic', children: [text('i')] }]);
    expect(parseMarkdown('_i_')).toEqual([{ type: 'italic', children: [text('i')] }]);
    expect(parseMarkdown('__u__')).toEqual([{ type: 'underline', children: [text('u')] }]);
    expect(parseMarkdown('~~s~~')).toEqual([{ type: 'strike', children: [text('s')] }]);
    expect(parseMarkdown('||secret||')).toEqual([{ type: 'spoiler', children: [text('secret')] }]);
  });

  it('nests styles', () => {
    expect(parseMarkdown('***both***')).toEqual([{ type: 'bold', children: [{ type: 'italic', children: [text('both')] }] }]);
    expect(parseMarkdown('||**a** _b_||')).toEqual([
      {
        type: 'spoiler',
        children: [{ type: 'bold', children: [text('a')] }, text(' '), { type: 'italic', children: [text('b')] }],
      },
    ]);
  });

  it('does not treat lone or spaced markers as styles', () => {
    expect(parseMarkdown('2 * 3 * 4')).toEqual([text('2 * 3 * 4')]);
    expect(parseMarkdown('**unclosed')).toEqual([text('**unclosed')]);
    expect(parseMarkdown('snake_case_name')).toEqual([text('snake_case_name')]);
    expect(parseMarkdown('a | b || c')).toEqual([text('a | b || c')]);
  });

  it('escapes markdown characters with a backslash', () => {
    expect(parseMarkdown('\\*not italic\\*')).toEqual([text('*not italic*')]);
    expect(parseMarkdown('\\<@123>')).toEqual([text('<@123>')]);
  });

  it('parses inline code verbatim', () => {
    expect(parseMarkdown('run `**npm** test` now')).toEqual([text('run '), { type: 'code', text: '**npm** test' }, text(' now')]);
    expect(parseMarkdown('``a ` b``')).toEqual([{ type: 'code', text: 'a ` b' }]);
    expect(parseMarkdown('`<@1>`')).toEqual([{ type: 'code', text: '<@1>' }]);
  });

  it('parses long adversarial input quickly and keeps every character', () => {
    for (const input of ['*'.repeat(4000), '**a'.repeat(1300), '||'.repeat(2000), '`'.repeat(4000), '_a'.repeat(2000)]) {
      const started = Date.now();
      const nodes = parseMarkdown(input);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(plainText(nodes).length).toBeGreaterThan(0);
    }
    // Markers may pair up, but no letter is lost.
    expect(plainText(parseMarkdown('**a'.repeat(1300))).replaceAll('*', '')).toBe('a'.repeat(1300));
  });
});

describe('markdown: blocks', () => {
  it('parses fenced code blocks with an optional language, verbatim', () => {
    expect(parseMarkdown('before\n```js\nconst a = **1**;\n```\nafter')).toEqual([
      text('before'),
      { type: 'codeBlock', lang: 'js', text: 'const a = **1**;' },
      text('after'),
    ]);
    expect(parseMarkdown('```\nplain\n```')).toEqual([{ type: 'codeBlock', lang: null, text: 'plain' }]);
    expect(parseMarkdown('```one line```')).toEqual([{ type: 'codeBlock', lang: null, text: 'one line' }]);
  });

  it('leaves an unclosed fence as text', () => {
    expect(parseMarkdown('```js\nno end')).toEqual([text('```js\nno end')]);
  });

  it('parses block quotes line by line, and >>> to the end', () => {
    expect(parseMarkdown('> quoted **bold**\n> more\nafter')).toEqual([
      { type: 'quote', children: [text('quoted '), { type: 'bold', children: [text('bold')] }, text('\nmore')] },
      text('after'),
    ]);
    expect(parseMarkdown('hi\n>>> all\nof this')).toEqual([text('hi'), { type: 'quote', children: [text('all\nof this')] }]);
    expect(parseMarkdown('>not a quote')).toEqual([text('>not a quote')]);
  });
});

describe('markdown: lists', () => {
  it('reads - and * lines as a list, and 1. lines as a numbered one from its first number', () => {
    expect(parseMarkdown('Compras:\n- pão\n* **café**\nfim')).toEqual([
      text('Compras:'),
      { type: 'list', ordered: false, start: 1, items: [[text('pão')], [{ type: 'bold', children: [text('café')] }]] },
      text('fim'),
    ]);
    expect(parseMarkdown('3. três\n4. quatro')).toEqual([
      { type: 'list', ordered: true, start: 3, items: [[text('três')], [text('quatro')]] },
    ]);
    // A switch of kind starts another list.
    expect(parseMarkdown('- a\n1. b').map((n) => n.type === 'list' && n.ordered)).toEqual([false, true]);
  });

  it('leaves markers without a space, or alone, as text', () => {
    expect(parseMarkdown('-1 grau')).toEqual([text('-1 grau')]);
    expect(parseMarkdown('*ênfase* aqui')).toEqual([{ type: 'italic', children: [text('ênfase')] }, text(' aqui')]);
    expect(parseMarkdown('- ')).toEqual([text('- ')]);
  });

  it('reads as plain text with its markers', () => {
    expect(plainText(parseMarkdown('2. dois\n3. três'))).toBe('2. dois\n3. três');
  });
});

describe('markdown: links and mentions', () => {
  it('links http(s) URLs, leaving sentence punctuation out', () => {
    expect(parseMarkdown('see https://example.com/a?b=1.')).toEqual([
      text('see '),
      { type: 'link', href: 'https://example.com/a?b=1', text: 'https://example.com/a?b=1' },
      text('.'),
    ]);
    expect(parseMarkdown('(https://en.wikipedia.org/wiki/Rust_(language))')).toEqual([
      text('('),
      {
        type: 'link',
        href: 'https://en.wikipedia.org/wiki/Rust_(language)',
        text: 'https://en.wikipedia.org/wiki/Rust_(language)',
      },
      text(')'),
    ]);
    expect(parseMarkdown('<http://example.com>')).toEqual([
      { type: 'link', href: 'http://example.com/', text: 'http://example.com' },
    ]);
    expect(parseMarkdown('**https://x.org**')).toEqual([
      { type: 'bold', children: [{ type: 'link', href: 'https://x.org/', text: 'https://x.org' }] },
    ]);
  });

  it('reads [text](url) as a link reading text, unless the text looks like an address', () => {
    expect(parseMarkdown('veja [o site](https://papo.chat/docs).')).toEqual([
      text('veja '),
      { type: 'link', href: 'https://papo.chat/docs', text: 'o site' },
      text('.'),
    ]);
    // Text that looks like an address: no masked link; what is linked reads as its own address.
    expect(parseMarkdown('[https://bank.com](https://evil.example)')).toEqual([
      text('[https://bank.com]('),
      { type: 'link', href: 'https://evil.example/', text: 'https://evil.example' },
      text(')'),
    ]);
    // Text naming another site than the one linked: not a masked link either; the same site
    // (or a site under it) is.
    expect(parseMarkdown('[paypal.com/signin](https://evil.example/steal)')[0]).toEqual(text('[paypal.com/signin]('));
    expect(parseMarkdown('[docs.papo.app/reset](https://evil.example/x)')[0]).toEqual(text('[docs.papo.app/reset]('));
    expect(parseMarkdown('[papo.chat](https://docs.papo.chat/a)')).toEqual([
      { type: 'link', href: 'https://docs.papo.chat/a', text: 'papo.chat' },
    ]);
    expect(parseMarkdown('[versão 1.2](https://papo.chat/v)')).toEqual([
      { type: 'link', href: 'https://papo.chat/v', text: 'versão 1.2' },
    ]);
    // A direction override cannot turn a link's text around.
    const reversed = parseMarkdown('https://evil.example/\u202Egpj.exe');
    expect(reversed).toEqual([{ type: 'link', href: 'https://evil.example/%E2%80%AEgpj.exe', text: 'https://evil.example/gpj.exe' }]);
    expect(parseMarkdown('[x](javascript:alert(1))')).toEqual([text('[x](javascript:alert(1))')]);
    expect(parseMarkdown('[a]')).toEqual([text('[a]')]);
  });

  it('never links other schemes', () => {
    expect(parseMarkdown('javascript:alert(1)')).toEqual([text('javascript:alert(1)')]);
    expect(parseMarkdown('<javascript:alert(1)>')).toEqual([text('<javascript:alert(1)>')]);
    expect(parseMarkdown('data:text/html,<script>alert(1)</script>')).toEqual([
      text('data:text/html,<script>alert(1)</script>'),
    ]);
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('https://')).toBeNull();
    expect(safeHref('https://ok.example/')).toBe('https://ok.example/');
  });

  it('keeps HTML as text', () => {
    expect(parseMarkdown('<script>alert(1)</script>')).toEqual([text('<script>alert(1)</script>')]);
    expect(parseMarkdown('<img src=x onerror=alert(1)>')).toEqual([text('<img src=x onerror=alert(1)>')]);
    expect(parseMarkdown('**<b onmouseover=alert(1)>x</b>**')).toEqual([
      { type: 'bold', children: [text('<b onmouseover=alert(1)>x</b>')] },
    ]);
  });

  it('parses user, role and everyone mentions', () => {
    expect(parseMarkdown('hi <@123> and <@!456>')).toEqual([
      text('hi '),
      { type: 'userMention', id: '123' },
      text(' and '),
      { type: 'userMention', id: '456' },
    ]);
    expect(parseMarkdown('<@&789>!')).toEqual([{ type: 'roleMention', id: '789' }, text('!')]);
    expect(parseMarkdown('@everyone @here @hereafter')).toEqual([
      { type: 'everyone', name: 'everyone' },
      text(' '),
      { type: 'everyone', name: 'here' },
      text(' @hereafter'),
    ]);
    expect(parseMarkdown('<@abc>')).toEqual([text('<@abc>')]);
  });
});

describe('plain text', () => {
  it('drops markup and hides spoilers', () => {
    expect(plainText(parseMarkdown('**a** `b` ||c|| <@1> https://x.org'))).toBe('a b ▮▮▮ <@1> https://x.org');
    // With names: mentions read as names (unknown ones stay raw).
    const names = { user: (id: string) => (id === '1' ? 'Ana' : null), role: (id: string) => (id === '5' ? 'Mods' : null) };
    expect(plainText(parseMarkdown('oi <@1>, <@2> e **<@&5>**'), names)).toBe('oi @Ana, <@2> e @Mods');
  });
});
