import { readFileSync } from 'node:fs';
import i18next from 'i18next';
import { describe, expect, it } from 'vitest';
import { en, ptBR } from './locales';
import enMain from './locales/en.json';
import enServerSettings from './locales/en.server-settings.json';
import ptBRMain from './locales/pt-BR.json';
import ptBRServerSettings from './locales/pt-BR.server-settings.json';

type Tree = { [key: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(path, value);
    else if (value && typeof value === 'object') {
      for (const [k, v] of flatten(value, path)) out.set(k, v);
    } else {
      throw new Error(`${path} is neither a string nor an object`);
    }
  }
  return out;
}

const placeholders = (text: string) => [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();

describe('translation resources', () => {
  const enKeys = flatten(en as Tree);
  const ptKeys = flatten(ptBR as Tree);

  it('the files of a language never share a top-level key (one would hide the other)', () => {
    const parts: [object, object][] = [
      [enMain, enServerSettings],
      [ptBRMain, ptBRServerSettings],
    ];
    for (const [main, part] of parts) {
      expect(Object.keys(main).filter((key) => key in part)).toEqual([]);
    }
  });

  it('en and pt-BR have exactly the same keys', () => {
    const missingInPt = [...enKeys.keys()].filter((k) => !ptKeys.has(k));
    // Portuguese has a plural category English lacks ("many": 1,000,000).
    const missingInEn = [...ptKeys.keys()].filter((k) => !enKeys.has(k) && !k.endsWith('_many'));
    expect(missingInPt).toEqual([]);
    expect(missingInEn).toEqual([]);
    expect(enKeys.size).toBeGreaterThan(50);
  });

  it('has no empty strings', () => {
    for (const [lang, keys] of [['en', enKeys], ['pt-BR', ptKeys]] as const) {
      const empty = [...keys].filter(([, v]) => v.trim() === '').map(([k]) => `${lang}:${k}`);
      expect(empty).toEqual([]);
    }
  });

  it('has a text for every error code of the API (docs/api.md), so none shows the server\'s English', () => {
    const api = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8');
    const codes = [...api.matchAll(/^\| \d{3} \| ([a-z_]+) \|/gm)].map((m) => m[1] as string);
    expect(codes.length).toBeGreaterThan(15);
    for (const code of codes) {
      expect(enKeys.has(`errors.${code}`), code).toBe(true);
      expect(ptKeys.has(`errors.${code}`), code).toBe(true);
    }
  });

  it('has every plural form each language needs, so no count shows a bare key', async () => {
    const plurals = [...enKeys.keys()].filter((k) => k.endsWith('_other')).map((k) => k.slice(0, -'_other'.length));
    expect(plurals.length).toBeGreaterThan(5);
    const samples = [0, 1, 2, 5, 21, 1_000_000, 2_000_000, 1.5];
    for (const [lng, translation] of [['en', en], ['pt-BR', ptBR]] as const) {
      const categories = new Set(samples.map((n) => new Intl.PluralRules(lng).select(n)));
      if (lng === 'pt-BR') expect(categories.has('many'), 'the sample reaches "many"').toBe(true);
      const t = i18next.createInstance();
      await t.init({ lng, resources: { [lng]: { translation } }, interpolation: { escapeValue: false } });
      for (const key of plurals) {
        for (const count of samples) {
          const text = t.t(key, { count, emoji: '👍', time: '10:00' });
          expect(text, `${lng} ${key} ${count}`).not.toBe(key);
          expect(text, `${lng} ${key} ${count}`).toContain(String(count));
        }
      }
    }
  });

  it('uses the same interpolation placeholders in both languages', () => {
    for (const [key, text] of enKeys) {
      expect(placeholders(ptKeys.get(key) ?? ''), key).toEqual(placeholders(text));
    }
  });

  it('translates every API error code of the contract', () => {
    const codes = [
      'invalid_json', 'unauthorized', 'invalid_credentials', 'invalid_refresh_token', 'invalid_password',
      'not_found', 'username_taken', 'email_taken', 'payload_too_large', 'validation_failed',
      'rate_limited', 'internal_error', 'forbidden', 'owner_cannot_leave',
      // field codes
      'required', 'invalid_type', 'too_short', 'too_long', 'username_invalid', 'email_invalid',
      'password_too_short', 'password_too_common', 'invalid_value',
    ];
    for (const code of codes) {
      expect(enKeys.has(`errors.${code}`), code).toBe(true);
      expect(ptKeys.has(`errors.${code}`), code).toBe(true);
    }
  });

  it('is really translated (spot checks)', () => {
    expect(ptKeys.get('auth.submitLogin')).toBe('Entrar');
    expect(ptKeys.get('landing.register')).toBe('Criar conta');
    expect(ptKeys.get('userPanel.logout')).toBe('Sair');
    expect(ptKeys.get('settings.profile.displayName')).toBe('Nome de exibição');
    expect(ptKeys.get('shell.emptyTitle')).not.toBe(enKeys.get('shell.emptyTitle'));
    expect(ptKeys.get('gateway.reconnecting')).toBe('Reconectando…');
    expect(ptKeys.get('presence.status.online')).toBe('Disponível');
    expect(ptKeys.get('presence.status.idle')).toBe('Ausente');
    expect(ptKeys.get('presence.status.dnd')).toBe('Não perturbe');
    expect(ptKeys.get('presence.status.invisible')).toBe('Invisível');
    expect(ptKeys.get('presence.setCustom')).toBe('Definir status personalizado');
    expect(ptKeys.get('servers.create.title')).toBe('Criar servidor');
    expect(ptKeys.get('channels.textChannels')).toBe('Canais de texto');
    expect(ptKeys.get('channels.voiceChannels')).toBe('Canais de voz');
    expect(ptKeys.get('servers.menu.leave')).toBe('Sair do servidor');
    expect(ptKeys.get('servers.menu.delete')).toBe('Excluir servidor');
    expect(ptKeys.get('servers.menu.settings')).toBe('Configurações do servidor');
    expect(ptKeys.get('channels.create.title')).toBe('Criar canal');
    expect(ptKeys.get('channels.edit.title')).toBe('Editar canal');
    expect(ptKeys.get('channels.edit.slowmode')).toBe('Modo lento');
  });
});
