import { randomBytes } from 'node:crypto';
import type { HttpResponse } from '../http/responses.js';

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A nonce for this response's inline style and script (the CSP allows nothing else). */
export function cspNonce(): string {
  return randomBytes(16).toString('base64');
}

/**
 * An HTML response that no cache keeps, that no other site may frame and that loads nothing
 * from anywhere: inline style and script only with this response's nonce.
 */
export function html(statusCode: number, body: string, nonce: string, extra: { cookies?: string[]; frameable?: boolean } = {}): HttpResponse {
  const csp = [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    ...(extra.frameable ? [] : ["frame-ancestors 'none'"]),
  ].join('; ');
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      'content-security-policy': csp,
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      ...(extra.frameable ? {} : { 'x-frame-options': 'DENY' }),
    },
    body,
    ...(extra.cookies?.length ? { cookies: extra.cookies } : {}),
  };
}

/** A 302 redirect, optionally setting cookies. */
export function redirect(location: string, cookies: string[] = []): HttpResponse {
  return {
    statusCode: 302,
    headers: { location, 'cache-control': 'no-store', pragma: 'no-cache', 'referrer-policy': 'no-referrer' },
    body: '',
    ...(cookies.length ? { cookies } : {}),
  };
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f3f4f6;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827}
main{width:100%;max-width:400px;margin:24px;padding:40px 36px;background:#fff;border-radius:8px;box-shadow:0 12px 40px rgba(0,0,0,.12)}
h1{font-size:24px;margin:0 0 8px;text-align:center}
.tenant{margin:0 0 4px;text-align:center;font-weight:600;color:#4b5563;letter-spacing:.02em}
.lead{margin:0 0 24px;text-align:center;color:#4b5563}
label{display:block;font-weight:600;margin:16px 0 6px}
input[type=email],input[type=password]{width:100%;padding:12px;border:1px solid #9ca3af;border-radius:4px;font:inherit}
input:focus{outline:3px solid #2563eb;outline-offset:1px;border-color:#2563eb}
button{width:100%;margin-top:24px;padding:12px;border:0;border-radius:4px;background:#1d4ed8;color:#fff;font:inherit;font-weight:600;cursor:pointer}
button:hover{background:#1e40af}
button:focus{outline:3px solid #93c5fd;outline-offset:2px}
.error{margin:0 0 8px;padding:12px;border-radius:4px;background:#fef2f2;border:1px solid #f87171;color:#991b1b}
.note{color:#4b5563;font-size:14px}
`;

/** The page frame: language, viewport, title, the one stylesheet. */
export function page(title: string, nonce: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<main>
${content}
</main>
</body>
</html>`;
}

/** An error page for what cannot be sent back to an application (bad client, bad redirect_uri...). */
export function errorPage(statusCode: number, error: string, description: string, cookies: string[] = []): HttpResponse {
  const nonce = cspNonce();
  const content = `<h1>Something went wrong</h1>
<p class="error" role="alert"><strong>${escapeHtml(error)}</strong>: ${escapeHtml(description)}</p>
<p class="note">Return to the application and try again.</p>`;
  return html(statusCode, page('Error', nonce, content), nonce, { cookies });
}
