/**
 * Requests from a chosen loopback address (127.0.0.2, 127.0.0.3, ...): the client socket binds
 * to it with `localAddress`, so the server sees it as the socket's remote address, the way API
 * Gateway's `sourceIp` reaches the Lambda. Never a client-sent header.
 */
import { request } from 'node:http';

export interface IpAnswer {
  status: number;
  body: any;
  headers: Record<string, string | string[] | undefined>;
}

export function requestFrom(
  ip: string,
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<IpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, localAddress: ip, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          /* keep text */
        }
        resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** POSTs a form to `baseUrl + path` from `ip`. */
export function postFormFrom(ip: string, baseUrl: string, path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return requestFrom(ip, `${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}
