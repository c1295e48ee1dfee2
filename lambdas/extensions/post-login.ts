/**
 * The post-login extension point: an operator's code that sees each issuance (password and code
 * logins, refresh, re-mint) and adds custom claims or denies access. The event is shaped like
 * Auth0 Actions' post-login event, so an Action's logic carries over; the result is plain data,
 * so it can come back from a Lambda function as well as from a local module.
 */
export interface PostLoginEvent {
  tenant: { id: string };
  user: {
    user_id: string;
    email?: string;
    email_verified?: boolean;
    username?: string;
    name?: string;
    nickname?: string;
    given_name?: string;
    family_name?: string;
    picture?: string;
    app_metadata: Record<string, unknown>;
    user_metadata: Record<string, unknown>;
    identities: { provider: string; user_id: string; connection: string; isSocial: boolean }[];
    created_at: string;
    updated_at: string;
    last_login?: string;
    logins_count: number;
  };
  client: { client_id: string; name: string };
  connection: { id: string; name: string; strategy: string };
  authorization: { roles: string[] };
  request: { ip?: string; hostname: string; user_agent?: string };
  resource_server?: { identifier: string };
  transaction: { requested_scopes: string[]; protocol: string };
  stats: { logins_count: number };
}

export interface PostLoginResult {
  access_token_claims?: Record<string, unknown>;
  id_token_claims?: Record<string, unknown>;
  /** Access is denied with this reason (the client sees `access_denied` with it). */
  deny?: string;
}

export type PostLoginExtension = (event: PostLoginEvent, signal: AbortSignal) => Promise<PostLoginResult>;

/** An Auth0 Action's `onExecutePostLogin(event, api)`: the calls it makes on `api` become the result. */
export type ActionHandler = (event: PostLoginEvent, api: ActionApi) => unknown;
export interface ActionApi {
  accessToken: { setCustomClaim(name: string, value: unknown): ActionApi };
  idToken: { setCustomClaim(name: string, value: unknown): ActionApi };
  access: { deny(reason: string): ActionApi };
}

/** Runs an Actions-style handler and collects what it asked for. */
export async function runActionHandler(handler: ActionHandler, event: PostLoginEvent): Promise<PostLoginResult> {
  const result: Required<Pick<PostLoginResult, 'access_token_claims' | 'id_token_claims'>> & { deny?: string } = {
    access_token_claims: {},
    id_token_claims: {},
  };
  const api: ActionApi = {
    accessToken: { setCustomClaim: (name, value) => ((result.access_token_claims[name] = value), api) },
    idToken: { setCustomClaim: (name, value) => ((result.id_token_claims[name] = value), api) },
    access: { deny: (reason) => ((result.deny ??= String(reason)), api) },
  };
  await handler(event, api);
  return result;
}

/** The extension failed, timed out or answered something unusable (fail-closed refuses the issuance). */
export class PostLoginFailure extends Error {
  constructor(readonly reason: string) {
    super(`post-login extension failed: ${reason}`);
    this.name = 'PostLoginFailure';
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Checks an answer's shape: only the three known fields, claims as objects, a deny reason as text. */
export function parsePostLoginResult(value: unknown): PostLoginResult {
  if (value === null || value === undefined) return {};
  if (!isRecord(value)) throw new PostLoginFailure('invalid_result');
  const { access_token_claims, id_token_claims, deny, ...rest } = value;
  if (Object.keys(rest).length > 0) throw new PostLoginFailure('invalid_result');
  if (access_token_claims !== undefined && !isRecord(access_token_claims)) throw new PostLoginFailure('invalid_result');
  if (id_token_claims !== undefined && !isRecord(id_token_claims)) throw new PostLoginFailure('invalid_result');
  if (deny !== undefined && typeof deny !== 'string') throw new PostLoginFailure('invalid_result');
  return { access_token_claims, id_token_claims, deny };
}

export interface PostLoginPolicy {
  timeoutMs: number;
  /** `open`: a failing extension is logged and tokens are issued without its claims. `closed`: the issuance is refused. */
  failureMode: 'open' | 'closed';
}

/**
 * Runs the extension within its time budget. A failure (error, timeout, bad answer) throws
 * `PostLoginFailure` when the policy is fail-closed; fail-open gives an empty result. Either way
 * `onFailure` learns the reason, for the log.
 */
export async function runPostLogin(
  extension: PostLoginExtension,
  event: PostLoginEvent,
  policy: PostLoginPolicy,
  onFailure: (reason: string) => void,
): Promise<PostLoginResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Rejected first, so the race reports the timeout rather than the abort it causes.
      reject(new PostLoginFailure('timeout'));
      controller.abort();
    }, policy.timeoutMs);
  });
  try {
    return parsePostLoginResult(await Promise.race([extension(event, controller.signal), timeout]));
  } catch (err) {
    const reason = err instanceof PostLoginFailure ? err.reason : 'error';
    onFailure(reason);
    if (policy.failureMode === 'closed') throw err instanceof PostLoginFailure ? err : new PostLoginFailure(reason);
    return {};
  } finally {
    clearTimeout(timer);
  }
}
