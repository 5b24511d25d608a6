import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Markdown } from './Markdown';

const render = (content: string, mentionEveryone: boolean) =>
  renderToStaticMarkup(createElement(Markdown, { content, serverId: 's', roles: [], meId: 'me', mentionEveryone }));

describe('Markdown', () => {
  it('draws @everyone and @here as mentions only when they pinged', () => {
    expect(render('hi @everyone and @here', true)).toBe(
      'hi <span class="md-mention" data-testid="mention">@everyone</span> and <span class="md-mention" data-testid="mention">@here</span>',
    );
    // From someone without mention_everyone the server pinged no one: plain text.
    expect(render('hi @everyone and @here', false)).toBe('hi @everyone and @here');
  });

  it('keeps hostile text as text', () => {
    expect(render('<img src=x onerror=alert(1)> **b**', false)).toBe('&lt;img src=x onerror=alert(1)&gt; <strong>b</strong>');
  });
});
