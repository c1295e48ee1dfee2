import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** The API Gateway v2 event after body parsing: `body` may be an object. */
export type HttpEvent = Omit<APIGatewayProxyEventV2, 'body'> & { body?: unknown };

export function header(event: HttpEvent, name: string): string | undefined {
  const h = event.headers ?? {};
  const v = h[name.toLowerCase()] ?? h[name];
  return v === undefined ? undefined : String(v);
}

/** The API id the local server (bin/local) gives its events; API Gateway's are never this. */
export const LOCAL_API_ID = 'local';

/**
 * The issuer this request was addressed to: `https://<host>/`, where the host is the domain API
 * Gateway received the request on (`requestContext.domainName`, its custom domain), never the
 * client's `Host` header. Only the local server may serve plain http (its own events say so);
 * behind API Gateway a client's `X-Forwarded-Proto` cannot turn the issuer or the cookies into
 * plain-http ones. The tenant's configured issuer wins over this (see tenant-context.ts).
 */
export function issuerOf(event: HttpEvent): { host: string; issuer: string } {
  const host = (event.requestContext?.domainName ?? header(event, 'host') ?? 'localhost').toLowerCase();
  const local = event.requestContext?.apiId === LOCAL_API_ID;
  const proto = local && header(event, 'x-forwarded-proto') === 'http' ? 'http' : 'https';
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
