// Each language's strings, kept in one file per part of the app so that none grows past a
// reviewable size, and put together here. Every part has its own top-level keys.
import enMain from './en.json';
import enServerSettings from './en.server-settings.json';
import ptBRMain from './pt-BR.json';
import ptBRServerSettings from './pt-BR.server-settings.json';

/** English, the fallback language. */
export const en = { ...enMain, ...enServerSettings };

/** Brazilian Portuguese. */
export const ptBR = { ...ptBRMain, ...ptBRServerSettings };
