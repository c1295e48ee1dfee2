import { header, type HttpEvent } from '../http/event.js';

/** A cookie value from the request (API Gateway v2 puts them in `cookies`; a raw header also works). */
export function readCookie(event: HttpEvent, name: string): string | undefined {
  const pairs = event.cookies ?? header(event, 'cookie')?.split(/;\s*/) ?? [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || pair.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export interface CookieOptions {
  path: string;
  /** Seconds; 0 deletes the cookie. */
  maxAge: number;
  /** Set when the request came over https (always, behind API Gateway). */
  secure: boolean;
}

/** An HttpOnly, SameSite=Lax cookie: never readable by scripts, not sent on cross-site POSTs. */
export function serializeCookie(name: string, value: string, opts: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${opts.path}`, `Max-Age=${opts.maxAge}`, 'HttpOnly', 'SameSite=Lax'];
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Whether cookies should carry `Secure`: the issuer the request was addressed to is https. */
export function isSecureIssuer(issuer: string): boolean {
  return issuer.startsWith('https://');
}
