import { ATTEMPT_STATUSES, type AttemptStatus } from '../core/types.js';
import type { AttemptFilter, AttemptTimeField } from '../store/dashboard-store.js';

/** The attempts list's query string, parsed: what the user asked for and what was not understood. */
export interface ListQuery {
  readonly filter: AttemptFilter;
  readonly order: 'asc' | 'desc';
  readonly cursor: string | undefined;
  readonly problems: string[];
  /** The raw values, to refill the form. */
  readonly form: Readonly<Record<FilterParam, string>>;
}

export const FILTER_PARAMS = ['status', 'target', 'method', 'token', 'time', 'from', 'to', 'order'] as const;
export type FilterParam = (typeof FILTER_PARAMS)[number];

const MAX_TEXT = 500;
/** `2026-11-28T10:00`, with optional seconds and fraction, with `Z` or an offset or nothing (read as UTC). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(?:Z|[+-]\d{2}:\d{2})?$/;

export function parseDateTime(text: string): Date | null {
  const trimmed = text.trim();
  if (!DATE_TIME.test(trimmed)) return null;
  let iso = trimmed.replace(' ', 'T');
  if (!iso.includes('T')) iso += 'T00:00';
  if (!/(?:Z|[+-]\d{2}:\d{2})$/.test(iso)) iso += 'Z';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

const CURSOR = /^(\d{1,20})_([1-9]\d{0,18})$/;
const MAX_BIGINT = 2n ** 63n - 1n;

/** A cursor the stores made: a sort key and an id, both 64-bit integers. */
function isCursor(text: string): boolean {
  const match = CURSOR.exec(text);
  return match !== null && BigInt(match[1]!) <= MAX_BIGINT && BigInt(match[2]!) <= MAX_BIGINT;
}

/** Reads the filter fields from a query string or a submitted form. */
export function parseListQuery(params: URLSearchParams): ListQuery {
  const problems: string[] = [];
  const form = Object.fromEntries(
    FILTER_PARAMS.map((name) => [name, (params.get(name) ?? '').slice(0, MAX_TEXT)]),
  ) as Record<FilterParam, string>;
  // NUL cannot be stored in (so never matches) a text column; PostgreSQL refuses it outright.
  for (const name of FILTER_PARAMS) {
    if (form[name].includes('\u0000')) {
      problems.push(`Ignored ${name}: it contains a NUL character.`);
      form[name] = '';
    }
  }
  const text = (name: FilterParam) => (form[name].trim() === '' ? undefined : form[name].trim());

  let status: AttemptStatus | undefined;
  const rawStatus = text('status');
  if (rawStatus !== undefined) {
    if ((ATTEMPT_STATUSES as readonly string[]).includes(rawStatus)) status = rawStatus as AttemptStatus;
    else problems.push(`Unknown status ${JSON.stringify(rawStatus)}: showing every status.`);
  }
  const timeField: AttemptTimeField = text('time') === 'due' ? 'due' : 'created';
  const date = (name: 'from' | 'to') => {
    const raw = text(name);
    if (raw === undefined) return undefined;
    const parsed = parseDateTime(raw);
    if (!parsed) problems.push(`Could not read ${name} ${JSON.stringify(raw)}: use 2026-01-31T13:45 (UTC).`);
    return parsed ?? undefined;
  };
  const filter: AttemptFilter = {
    timeField,
    ...(status !== undefined && { status }),
    ...(text('target') !== undefined && { target: text('target') }),
    ...(text('method') !== undefined && { method: text('method') }),
    ...(text('token') !== undefined && { idempotenceToken: text('token') }),
    ...(date('from') !== undefined && { from: date('from') }),
    ...(date('to') !== undefined && { to: date('to') }),
  };
  // Due order reads soonest first by default; creation order newest first.
  const order = text('order') === 'asc' || (text('order') === undefined && timeField === 'due') ? 'asc' : 'desc';
  const after = params.get('after') ?? undefined;
  const cursor = after !== undefined && isCursor(after) ? after : undefined;
  if (after !== undefined && cursor === undefined) problems.push('Ignored a page link this dashboard did not make.');
  return { filter, order, cursor, problems, form };
}

/** The query string that reproduces a filter (without the cursor). */
export function filterQueryString(form: Readonly<Record<FilterParam, string>>): string {
  const params = new URLSearchParams();
  for (const name of FILTER_PARAMS) if (form[name] !== '') params.set(name, form[name]);
  return params.toString();
}

/** Describes a filter in words, for confirmations. */
export function describeFilter(filter: AttemptFilter): string {
  const parts: string[] = [];
  if (filter.status) parts.push(`status ${filter.status}`);
  if (filter.target) parts.push(`target ${filter.target}`);
  if (filter.method) parts.push(`method ${filter.method}`);
  if (filter.idempotenceToken) parts.push(`idempotence token ${filter.idempotenceToken}`);
  const field = filter.timeField === 'due' ? 'due' : 'created';
  if (filter.from) parts.push(`${field} from ${filter.from.toISOString()}`);
  if (filter.to) parts.push(`${field} before ${filter.to.toISOString()}`);
  return parts.length > 0 ? parts.join(', ') : 'no filter (every attempt)';
}
