import { describe, expect, it } from 'vitest';
import { matchLocale, pickLanguage } from './language';

describe('pickLanguage', () => {
  it('prefers the saved locale', () => {
    expect(pickLanguage('pt-BR', ['en-US'])).toBe('pt-BR');
    expect(pickLanguage('en', ['pt-BR', 'pt'])).toBe('en');
  });

  it('follows the browser when nothing is saved', () => {
    expect(pickLanguage(null, ['pt-BR'])).toBe('pt-BR');
    expect(pickLanguage(null, ['pt-PT'])).toBe('pt-BR');
    expect(pickLanguage(undefined, ['pt'])).toBe('pt-BR');
    expect(pickLanguage(null, ['en-US', 'pt-BR'])).toBe('en');
    expect(pickLanguage(null, ['en-GB'])).toBe('en');
  });

  it('falls back to English for other or missing languages', () => {
    expect(pickLanguage(null, ['fr-FR'])).toBe('en');
    expect(pickLanguage(null, ['de', 'ja'])).toBe('en');
    expect(pickLanguage(null, [])).toBe('en');
    expect(pickLanguage(null, null)).toBe('en');
  });

  it('uses the first supported browser language', () => {
    expect(pickLanguage(null, ['fr-FR', 'pt-BR', 'en'])).toBe('pt-BR');
  });

  it('ignores unknown saved values', () => {
    expect(pickLanguage('fr', ['pt-BR'])).toBe('pt-BR');
    expect(pickLanguage('pt', ['en-US'])).toBe('en');
  });

  it('is case-insensitive and does not match look-alikes', () => {
    expect(matchLocale('PT-br')).toBe('pt-BR');
    expect(matchLocale('EN')).toBe('en');
    expect(matchLocale('ptx')).toBeNull();
    expect(matchLocale('eng')).toBeNull();
  });
});
