// The subset of Discord-flavoured markdown that messages use, parsed into a
// small tree (no HTML anywhere: Markdown.tsx turns the tree into React
// elements, so any `<script>` in a message stays text).
//
//   **bold**  *italic* / _italic_  __underline__  ~~strike~~  ||spoiler||
//   `code`  ``code with ` inside``  ```lang\nblock```  > quote  >>> quote to the end
//   - item / * item (a list)  1. item (a numbered list, from its first number)
//   http(s)://links  <https://link>  [text](https://link)  <@user>  <@!user>  <@&role>  @everyone  @here
//   \* escapes a markdown character

export type MdNode =
  | { type: 'text'; text: string }
  | { type: 'bold' | 'italic' | 'underline' | 'strike' | 'spoiler'; children: MdNode[] }
  | { type: 'code'; text: string }
  | { type: 'codeBlock'; lang: string | null; text: string }
  | { type: 'quote'; children: MdNode[] }
  | { type: 'list'; ordered: boolean; start: number; items: MdNode[][] }
  | { type: 'link'; href: string; text: string }
  | { type: 'userMention'; id: string }
  | { type: 'roleMention'; id: string }
  | { type: 'everyone'; name: 'everyone' | 'here' };

/** Nesting deeper than this is shown as text (keeps the recursion bounded). */
const MAX_DEPTH = 8;

/** Parses a message's content. */
export function parseMarkdown(source: string): MdNode[] {
  const out: MdNode[] = [];
  let pos = 0;
  while (pos < source.length) {
    const open = source.indexOf('```', pos);
    const close = open < 0 ? -1 : source.indexOf('```', open + 3);
    const block = close < 0 ? null : codeBlock(source.slice(open + 3, close));
    if (!block) {
      appendAll(out, parseProse(source.slice(pos)));
      break;
    }
    appendAll(out, parseProse(trimOneNewline(source.slice(pos, open), 'end')));
    out.push(block);
    pos = close + 3;
    if (source[pos] === '\n') pos++;
  }
  return out;
}

function codeBlock(inner: string): MdNode | null {
  const lang = /^([A-Za-z0-9_+#.-]{1,32})\n/.exec(inner);
  let text = lang ? inner.slice(lang[0].length) : trimOneNewline(inner, 'start');
  text = trimOneNewline(text, 'end');
  if (text.trim() === '' && !lang) return null;
  return { type: 'codeBlock', lang: lang ? (lang[1] as string).toLowerCase() : null, text };
}

function trimOneNewline(text: string, side: 'start' | 'end'): string {
  if (side === 'start') return text.startsWith('\n') ? text.slice(1) : text;
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** A list item's line: up to three spaces, `-` / `*` or `1.`, a space, the item. */
const LIST_ITEM = /^ {0,3}(?:([-*])|(\d{1,9})\.) +(\S.*)$/;

/** Text outside code blocks: block quotes, lists, and inline markdown everywhere. */
function parseProse(text: string): MdNode[] {
  if (!text) return [];
  const out: MdNode[] = [];
  const lines = text.split('\n');
  let paragraph: string[] = [];
  let quote: string[] = [];
  let list: Extract<MdNode, { type: 'list' }> | null = null;
  const flushParagraph = () => {
    if (paragraph.length > 0) appendAll(out, parseInline(paragraph.join('\n'), 0));
    paragraph = [];
  };
  const flushQuote = () => {
    if (quote.length > 0) out.push({ type: 'quote', children: parseInline(quote.join('\n'), 0) });
    quote = [];
  };
  const flushList = () => {
    if (list) out.push(list);
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.startsWith('>>> ')) {
      flushParagraph();
      quote.push(line.slice(4), ...lines.slice(i + 1));
      break;
    }
    if (line.startsWith('> ')) {
      flushParagraph();
      flushList();
      quote.push(line.slice(2));
      continue;
    }
    flushQuote();
    const item = LIST_ITEM.exec(line);
    if (item) {
      const ordered = item[2] !== undefined;
      flushParagraph();
      if (list && list.ordered !== ordered) flushList();
      list ??= { type: 'list', ordered, start: ordered ? Number(item[2]) : 1, items: [] };
      list.items.push(parseInline(item[3] as string, 0));
      continue;
    }
    flushList();
    paragraph.push(line);
  }
  flushParagraph();
  flushList();
  flushQuote();
  return out;
}

interface Built {
  node: MdNode;
  /** How much of the text it consumed. */
  length: number;
}

interface InlineRule {
  re: RegExp;
  /** Only where the previous character is not a letter or digit (bare links, _italic_). */
  wordStart?: boolean;
  build(match: RegExpExecArray, depth: number): Built | null;
}

/** The whole match becomes `node` (null: the rule does not apply here). */
const whole =
  (make: (m: RegExpExecArray, depth: number) => MdNode | null) =>
  (m: RegExpExecArray, depth: number): Built | null => {
    const node = make(m, depth);
    return node ? { node, length: m[0].length } : null;
  };

const container = (type: 'bold' | 'italic' | 'underline' | 'strike' | 'spoiler') =>
  whole((m, depth) => (depth >= MAX_DEPTH ? null : { type, children: parseInline(m[1] as string, depth + 1) }));

/** Tried in order at each position; the first that matches wins. */
const RULES: InlineRule[] = [
  { re: /\\([\\*_~|`<>@#:])/y, build: whole((m) => ({ type: 'text', text: m[1] as string })) },
  { re: /``([\s\S]+?)``(?!`)/y, build: whole((m) => ({ type: 'code', text: (m[1] as string).trim() || (m[1] as string) })) },
  { re: /`([^`]+)`/y, build: whole((m) => ({ type: 'code', text: m[1] as string })) },
  { re: /<@&(\d{1,20})>/y, build: whole((m) => ({ type: 'roleMention', id: m[1] as string })) },
  { re: /<@!?(\d{1,20})>/y, build: whole((m) => ({ type: 'userMention', id: m[1] as string })) },
  { re: /<(https?:\/\/[^\s<>]+)>/y, build: whole((m) => link(m[1] as string)) },
  { re: /\[([^\]\n]{1,200})\]\(<?(https?:\/\/[^\s<>()]+)>?\)/y, build: whole((m) => maskedLink(m[1] as string, m[2] as string)) },
  { re: /https?:\/\/[^\s<]+/y, wordStart: true, build: (m) => autolink(m[0]) },
  {
    re: /@(everyone|here)(?![\p{L}\p{N}_])/uy,
    build: whole((m) => ({ type: 'everyone', name: m[1] as 'everyone' | 'here' })),
  },
  { re: /\*\*([\s\S]+?)\*\*(?!\*)/y, build: container('bold') },
  { re: /__([\s\S]+?)__(?!_)/y, build: container('underline') },
  {
    re: /\*(?=\S)((?:\*\*|\\[\s\S]|\s+(?:\\[\s\S]|[^\s*\\]|\*\*)|[^\s*\\])+?)\*(?!\*)/y,
    build: container('italic'),
  },
  { re: /_((?:__|\\[\s\S]|[^\\_])+?)_(?![\p{L}\p{N}])/uy, wordStart: true, build: container('italic') },
  { re: /~~([\s\S]+?)~~/y, build: container('strike') },
  { re: /\|\|([\s\S]+?)\|\|/y, build: container('spoiler') },
];

/** Characters where a rule may start (everything else is plain text). */
const TRIGGERS = new Set(['\\', '`', '<', '[', 'h', '@', '*', '_', '~', '|']);

const isWordChar = (ch: string | undefined) => ch !== undefined && /[\p{L}\p{N}]/u.test(ch);

/** Inline markdown of a run of text (no block constructs). */
export function parseInline(text: string, depth: number): MdNode[] {
  const out: MdNode[] = [];
  let plain = '';
  let i = 0;
  outer: while (i < text.length) {
    const ch = text[i] as string;
    if (TRIGGERS.has(ch)) {
      for (const rule of RULES) {
        if (rule.wordStart && isWordChar(text[i - 1])) continue;
        rule.re.lastIndex = i;
        const match = rule.re.exec(text);
        if (!match) continue;
        const built = rule.build(match, depth);
        if (!built || built.length === 0) continue;
        const { node, length } = built;
        if (plain) {
          pushText(out, plain);
          plain = '';
        }
        if (node.type === 'text') pushText(out, node.text);
        else out.push(node);
        i += length;
        continue outer;
      }
    }
    plain += ch;
    i++;
  }
  if (plain) pushText(out, plain);
  return out;
}

/** A bare URL, without the punctuation that usually follows one in a sentence. */
function autolink(raw: string): Built | null {
  let url = raw;
  for (;;) {
    const last = url[url.length - 1];
    if (last === undefined) break;
    if ('.,:;!?\'"*_~|'.includes(last)) {
      url = url.slice(0, -1);
      continue;
    }
    if (last === ')' && count(url, '(') < count(url, ')')) {
      url = url.slice(0, -1);
      continue;
    }
    break;
  }
  const node = link(url);
  return node ? { node, length: url.length } : null;
}

const count = (text: string, ch: string) => text.split(ch).length - 1;

/** A site's name in a text ("paypal.com/signin", "docs.papo.app"): its host, lower-cased. */
const NAMED_HOST = /(?:^|[^\p{L}\p{N}.-])((?:[\p{L}\p{N}-]+\.)+\p{L}{2,})(?![\p{L}\p{N}-])/u;

/** Direction overrides and isolates: in a link's text they could turn its end around. */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

/**
 * `[text](url)`: a link reading `text`. Text that looks like an address, or names another
 * site than the one the link opens ("[paypal.com](https://evil.example)"), is not taken;
 * the link shows its address in a tooltip too.
 */
function maskedLink(text: string, href: string): MdNode | null {
  if (/https?:\/\/|www\./i.test(text) || !text.trim()) return null;
  const safe = safeHref(href);
  if (!safe) return null;
  const named = NAMED_HOST.exec(text)?.[1]?.toLowerCase();
  if (named) {
    const host = new URL(safe).hostname;
    if (host !== named && !host.endsWith(`.${named}`)) return null;
  }
  return { type: 'link', href: safe, text: text.replace(BIDI_CONTROLS, '') };
}

function link(href: string): MdNode | null {
  const safe = safeHref(href);
  return safe ? { type: 'link', href: safe, text: href.replace(BIDI_CONTROLS, '') } : null;
}

/** The URL when it is a well-formed http(s) one, else null (no javascript:, data:, …). */
export function safeHref(href: string): string | null {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (!url.hostname) return null;
  return url.href;
}

function pushText(out: MdNode[], text: string): void {
  const last = out[out.length - 1];
  if (last?.type === 'text') out[out.length - 1] = { type: 'text', text: last.text + text };
  else out.push({ type: 'text', text });
}

function appendAll(out: MdNode[], nodes: MdNode[]): void {
  for (const node of nodes) {
    if (node.type === 'text') pushText(out, node.text);
    else out.push(node);
  }
}

/** Names for the mentions in plain text; null (or none given): the raw `<@id>`. */
export interface MentionNames {
  user?(id: string): string | null;
  role?(id: string): string | null;
}

/** The content as plain text (reply excerpts, notifications): markup removed, mentions as `@name` when `names` knows them. */
export function plainText(nodes: readonly MdNode[], names: MentionNames = {}): string {
  return nodes
    .map((node) => {
      switch (node.type) {
        case 'text':
        case 'code':
        case 'codeBlock':
          return node.text;
        case 'link':
          return node.text;
        case 'userMention': {
          const name = names.user?.(node.id);
          return name ? `@${name}` : `<@${node.id}>`;
        }
        case 'roleMention': {
          const name = names.role?.(node.id);
          return name ? (name.startsWith('@') ? name : `@${name}`) : `<@&${node.id}>`;
        }
        case 'everyone':
          return `@${node.name}`;
        case 'spoiler':
          return '▮▮▮';
        case 'list':
          return node.items
            .map((item, i) => `${node.ordered ? `${node.start + i}.` : '-'} ${plainText(item, names)}`)
            .join('\n');
        default:
          return plainText(node.children, names);
      }
    })
    .join('');
}
