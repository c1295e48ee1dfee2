import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type HttpResponse = APIGatewayProxyStructuredResultV2 & { headers: Record<string, string> };

/** A JSON response that no cache may keep (tokens, errors, user data). */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      ...headers,
    },
    body: JSON.stringify(body),
  };
}

/** A JSON response that may be cached publicly for `maxAge` seconds (discovery, JWKS). */
export function cacheableJson(body: unknown, maxAge: number): HttpResponse {
  return json(200, body, { 'cache-control': `public, max-age=${maxAge}` , pragma: ''});
}
