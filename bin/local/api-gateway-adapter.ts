import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { LOCAL_API_ID } from '../../lambdas/http/event.js';
import { matchRoute, pathExists, type FunctionName } from '../../lambdas/routes.js';

/** API Gateway's own payload limit; larger bodies never reach a function. */
const API_GATEWAY_MAX_BODY = 10 * 1024 * 1024;

export type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

function readBody(req: IncomingMessage): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > API_GATEWAY_MAX_BODY) {
        resolve('too_large');
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const lambdaContext = (fn: string): Context =>
  ({
    functionName: fn,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${fn}`,
    memoryLimitInMB: '1024',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${fn}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 29_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  }) as Context;

/** Builds the API Gateway HTTP API (payload v2) event the deployed function would receive. */
export function toApiGatewayEvent(
  req: IncomingMessage,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string>,
  proto: 'http' | 'https',
): APIGatewayProxyEventV2 {
  const url = new URL(req.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k === 'cookie') continue;
    headers[k] = Array.isArray(v) ? v.join(',') : v;
  }
  // API Gateway terminates TLS and says so. Locally, a plain-http request keeps an http issuer
  // unless a proxy in front of it (or a test standing in for one) says the original was https.
  headers['x-forwarded-proto'] = proto === 'https' ? 'https' : (headers['x-forwarded-proto'] ?? 'http');
  if (proto === 'http' && headers['x-forwarded-host']) headers.host = headers['x-forwarded-host'];
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
  const textual = /^(application\/(json|x-www-form-urlencoded)|text\/)/i.test(headers['content-type'] ?? '');
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    cookies: req.headers.cookie?.split(/;\s*/).filter(Boolean),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: Object.keys(pathParameters).length ? pathParameters : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: LOCAL_API_ID,
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: crypto.randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length ? (textual ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: body.length > 0 && !textual,
  };
}

/**
 * A node:http request listener that dispatches like API Gateway: the route table picks the
 * function, the function's handler gets a v2 event, and its result becomes the response.
 */
export function apiGatewayListener(handlers: Partial<Record<FunctionName, LambdaHandler>>, proto: 'http' | 'https' = 'http') {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => {
      res.writeHead(status, headers);
      res.end(body);
    };
    try {
      const path = new URL(req.url ?? '/', 'http://local').pathname;
      const match = matchRoute(req.method ?? 'GET', path);
      if (!match) {
        req.resume();
        return send(pathExists(path) ? 405 : 404, JSON.stringify({ message: pathExists(path) ? 'Method Not Allowed' : 'Not Found' }));
      }
      const body = await readBody(req);
      if (body === 'too_large') return send(413, JSON.stringify({ message: 'Request Entity Too Large' }));
      const routeKey = `${match.route.method} ${match.route.path}`;
      const event = toApiGatewayEvent(req, body, routeKey, match.pathParameters, proto);
      const handler = handlers[match.route.fn];
      if (!handler) return send(404, JSON.stringify({ message: 'Not Found' }));
      const result = (await handler(event, lambdaContext(match.route.fn))) as
        | APIGatewayProxyStructuredResultV2
        | undefined;
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(result?.headers ?? {})) if (v !== '') headers[k] = String(v);
      if (result?.cookies?.length) headers['set-cookie'] = result.cookies;
      res.writeHead(result?.statusCode ?? 200, headers);
      res.end(result?.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : undefined);
    } catch {
      // A function that throws is an API Gateway 500, as in AWS.
      if (!res.headersSent) send(500, JSON.stringify({ message: 'Internal Server Error' }));
      else res.end();
    }
  };
}
