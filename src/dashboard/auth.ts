import { createHash, timingSafeEqual } from 'node:crypto';
import type { Access, ResolvedOptions } from './options.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares in constant time (over digests, so lengths leak nothing either). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function basicAuthUser(request: Request): { username: string; password: string } | null {
  const header = request.headers.get('authorization') ?? '';
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function passesBasicAuth(request: Request, options: ResolvedOptions): boolean {
  const expected = options.basicAuth;
  if (!expected) return true;
  const given = basicAuthUser(request);
  if (!given) return false;
  // Both compared, always, so timing does not tell which one was wrong.
  const userOk = safeEqual(given.username, expected.username);
  const passwordOk = safeEqual(given.password, expected.password);
  return userOk && passwordOk;
}

/** What a CSRF token is bound to: the access level, the basic-auth user and the app's `identify`. */
export async function identityOf(request: Request, options: ResolvedOptions, access: Access): Promise<string> {
  const user = options.basicAuth ? (basicAuthUser(request)?.username ?? '') : '';
  const identified = options.identify ? await options.identify(request) : undefined;
  return JSON.stringify([access, user, typeof identified === 'string' ? identified : '']);
}

/** What this request may do, or `'login'` when basic auth must be asked for. */
export async function accessFor(request: Request, options: ResolvedOptions): Promise<Access | 'login'> {
  if (!passesBasicAuth(request, options)) return 'login';
  let access: Access = 'full';
  if (options.authorize) {
    const verdict = await options.authorize(request);
    if (verdict === true || verdict === 'full') access = 'full';
    else if (verdict === 'read-only') access = 'read-only';
    else access = 'none';
  }
  if (access === 'full' && options.readOnly) access = 'read-only';
  return access;
}
