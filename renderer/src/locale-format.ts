/** Numbers, percentages, durations and dates in the reader's language (Intl), for every view. */
import { formatDuration as formatWholeDuration } from '../../shared/format.js';

export function formatNumber(value: number, language: string, digits = 0): string {
  return new Intl.NumberFormat(language, { maximumFractionDigits: digits }).format(value);
}

/** Exactly `digits` decimals, for columns of numbers that line up: 1.500 (pt-BR 1,500). */
export function formatFixed(value: number, language: string, digits: number): string {
  return new Intl.NumberFormat(language, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

/** 0.25 → "25%" (pt-BR "25%"), with `digits` decimals. */
export function formatPercentValue(value: number, language: string, digits = 0): string {
  return new Intl.NumberFormat(language, { style: 'percent', maximumFractionDigits: digits }).format(value);
}

/** A change as a signed percentage with one decimal: +25.0% (pt-BR +25,0%); no sign once it rounds to 0.0%. */
export function formatChange(value: number, language: string): string {
  return new Intl.NumberFormat(language, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(value);
}

export function formatDateTime(iso: string, language: string): string {
  return new Intl.DateTimeFormat(language, { dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
}

export function formatDay(day: string, language: string): string {
  return new Intl.DateTimeFormat(language, { day: '2-digit', month: 'short', timeZone: 'UTC' }).format(new Date(`${day}T00:00:00Z`));
}

export function formatMilliseconds(ms: number, language: string): string {
  return Math.round(ms) < 1000 ? `${formatNumber(ms, language)} ms` : `${formatNumber(ms / 1000, language, 1)} s`;
}

/**
 * A long task's length as shared/format.ts writes it (`12.3 s`, `1 min 49 s`, `1 h 00 min`), with
 * the decimal of the seconds in the reader's language; minutes and hours are whole numbers, the
 * same in every language.
 */
export function formatDuration(ms: number | null, language: string): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0 || Math.round(ms / 1000) >= 60) return formatWholeDuration(ms);
  return `${formatFixed(ms / 1000, language, 1)} s`;
}
