// Each language's strings, kept in one file per part of the app so that none grows past a
// reviewable size, and put together here. Every part has its own top-level keys.
import enMain from './en.json';
import enServerSettings from './en.server-settings.json';
import ptBRMain from './pt-BR.json';
import ptBRServerSettings from './pt-BR.server-settings.json';

/** English, the fallback language. */
export const en = { ...enMain, ...enServerSettings };

/**
 * `tree` with a `_many` plural form wherever only `_other` is written. Portuguese numbers such
 * as 1,000,000 fall in the "many" plural category (CLDR), and i18next shows the bare key for a
 * category it does not find; written with digits, they read as the `_other` form.
 */
function withManyForms<T extends object>(tree: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tree)) {
    out[key] = typeof value === 'object' && value !== null ? withManyForms(value as object) : value;
    const many = key.endsWith('_other') ? `${key.slice(0, -'_other'.length)}_many` : null;
    if (many !== null && !(many in tree)) out[many] = value;
  }
  return out as T;
}

/** Brazilian Portuguese. */
export const ptBR = withManyForms({ ...ptBRMain, ...ptBRServerSettings });
