import { createHmac, randomBytes } from 'node:crypto';
import { safeEqual } from './auth.js';

export const CSRF_COOKIE = 'async_task_csrf';
export const CSRF_FIELD = '_csrf';

/**
 * Double-submit tokens, signed and bound: the cookie (HttpOnly, SameSite=Strict) and the form field must carry
 * the same token, and the token must carry our signature over its nonce *and the identity of the request*
 * (access level, basic-auth user, and what `identify` returns). A pair planted from a sibling subdomain, or
 * one a read-only viewer obtained for themselves, fails on anyone else's request.
 */
export class CsrfTokens {
  private readonly secret: Buffer;

  constructor(secret: string | undefined) {
    this.secret = secret === undefined ? randomBytes(32) : Buffer.from(secret, 'utf8');
  }

  private sign(nonce: string, identity: string): string {
    // JSON keeps the two fields apart whatever they contain.
    return createHmac('sha256', this.secret)
      .update(JSON.stringify([nonce, identity]))
      .digest('base64url');
  }

  issue(identity: string): string {
    const nonce = randomBytes(18).toString('base64url');
    return `${nonce}.${this.sign(nonce, identity)}`;
  }

  /** Ours, and issued to this identity. */
  isValid(token: string | null | undefined, identity: string): token is string {
    if (typeof token !== 'string') return false;
    const [nonce, signature, extra] = token.split('.');
    if (!nonce || !signature || extra !== undefined) return false;
    return safeEqual(signature, this.sign(nonce, identity));
  }

  /** The submitted form token matches the cookie, is ours, and was issued to this identity. */
  verify(cookieToken: string | null, formToken: string | null, identity: string): boolean {
    return this.isValid(cookieToken, identity) && typeof formToken === 'string' && safeEqual(cookieToken, formToken);
  }
}

export function readCookie(request: Request, name: string): string | null {
  const header = request.headers.get('cookie');
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export function csrfCookie(token: string, path: string, secure: boolean): string {
  return `${CSRF_COOKIE}=${token}; Path=${path || '/'}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
