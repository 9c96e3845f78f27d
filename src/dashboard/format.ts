import { html, type SafeHtml } from './html.js';

/** How long ago (`3m 12s ago`) or how far ahead (`in 5m 0s`) `date` is from `now`. */
export function formatRelative(date: Date, now: Date = new Date()): string {
  const ms = now.getTime() - date.getTime();
  if (Math.abs(ms) < 1000) return 'just now';
  return ms > 0 ? `${formatDuration(ms)} ago` : `in ${formatDuration(-ms)}`;
}

/** A time as people read it in a table: relative to now, the absolute UTC time on hover (and in `datetime`). */
export function formatTime(date: Date | null, now: Date = new Date()): SafeHtml | string {
  if (!date) return '—';
  if (!Number.isFinite(date.getTime())) return 'unreadable time';
  const iso = date.toISOString();
  const absolute = iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  return html`<time datetime="${iso}" title="${absolute}">${formatRelative(date, now)}</time>`;
}

/** 3h 12m, 45s: how long ago or how far behind. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

export const formatCount = (n: number) => n.toLocaleString('en-US');

export function statusBadge(status: string): SafeHtml {
  return html`<span class="status status-${status}">${status}</span>`;
}
