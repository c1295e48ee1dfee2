import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** The API Gateway v2 event after body parsing: `body` may be an object. */
export type HttpEvent = Omit<APIGatewayProxyEventV2, 'body'> & { body?: unknown };

export function header(event: HttpEvent, name: string): string | undefined {
  const h = event.headers ?? {};
  const v = h[name.toLowerCase()] ?? h[name];
  return v === undefined ? undefined : String(v);
}

/** The issuer this request was addressed to: `https://<host>/` (http for a local plain-http request). */
export function issuerOf(event: HttpEvent): { host: string; issuer: string } {
  const host = (header(event, 'host') ?? event.requestContext?.domainName ?? 'localhost').toLowerCase();
  const proto = header(event, 'x-forwarded-proto') === 'http' ? 'http' : 'https';
  return { host, issuer: `${proto}://${host}/` };
}

export function clientIp(event: HttpEvent): string | undefined {
  return event.requestContext?.http?.sourceIp;
}

/** The raw body text (decoding base64 bodies), for size checks before parsing. */
export function rawBodyLength(event: HttpEvent): number {
  if (typeof event.body !== 'string') return 0;
  return event.isBase64Encoded ? Math.floor((event.body.length * 3) / 4) : Buffer.byteLength(event.body);
}
