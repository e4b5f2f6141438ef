import type { ClientConfig } from './config.js';

/** An error the API answered (or the network gave), with the API's stable code. */
export class ProvisionerApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = 'ProvisionerApiError';
  }
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /** Send the user JWT (default true). */
  auth?: boolean;
}

const retryable = new Set([429, 503]);

/**
 * Gives the user JWT to send, or undefined to send none. Called again with the token the API just
 * refused (401 `invalid_token`): forget it, and return a new one if one can be had.
 */
export type TokenSource = (refused?: string) => Promise<string | undefined>;

/**
 * The one place the client does HTTP: JSON both ways, the API's errors as ProvisionerApiError,
 * retries with exponential backoff and jitter on 429, 503 and network errors (honouring
 * Retry-After), and a timeout per attempt. 4xx answers are never retried, except a refused user
 * JWT: renewed once, and the request sent once more.
 */
export class Session {
  constructor(
    private readonly config: Pick<ClientConfig, 'url' | 'retries' | 'timeoutMs'>,
    private readonly token: TokenSource = async () => undefined,
    private readonly retryBaseMs = 250,
  ) {}

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(this.config.url + path);
    for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const token = options.auth === false ? undefined : await this.token();
    try {
      return await this.send<T>(method, url, options.body, token);
    } catch (error) {
      // Keys rotated or the server's data wiped: the cached token will never pass again. The API
      // refuses it before the operation runs, so sending the request once more is safe.
      if (!token || !(error instanceof ProvisionerApiError && error.status === 401 && error.code === 'invalid_token')) throw error;
      const renewed = await this.token(token);
      if (!renewed || renewed === token) throw error;
      return this.send<T>(method, url, options.body, renewed);
    }
  }

  /** One request, with the retries. */
  private async send<T>(method: string, url: URL, body: unknown, token: string | undefined): Promise<T> {
    const init: RequestInit = {
      method,
      headers: {
        accept: 'application/json',
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(token && { authorization: `Bearer ${token}` }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    };
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, { ...init, signal: AbortSignal.timeout(this.config.timeoutMs) });
      } catch (error) {
        if (attempt < this.config.retries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        const timedOut = (error as Error).name === 'TimeoutError';
        throw new ProvisionerApiError(0, timedOut ? 'timeout' : 'unreachable', `${method} ${url.pathname}: ${timedOut ? `no answer within ${this.config.timeoutMs / 1000} s` : `cannot reach ${this.config.url}`}.`);
      }
      if (retryable.has(response.status) && attempt < this.config.retries) {
        await response.body?.cancel();
        await sleep(this.backoff(attempt, response.headers.get('retry-after')));
        continue;
      }
      const text = await response.text();
      const answer = text ? safeJson(text) : undefined;
      if (response.ok) return answer as T;
      const error = (answer as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
      throw new ProvisionerApiError(
        response.status,
        error?.code ?? `http_${response.status}`,
        error?.message ?? `${method} ${url.pathname} answered HTTP ${response.status}.`,
        error?.details,
        response.headers.get('x-request-id') ?? undefined,
      );
    }
  }

  private backoff(attempt: number, retryAfter?: string | null): number {
    const seconds = retryAfter ? Number(retryAfter) : NaN;
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 60) * 1000;
    const base = this.retryBaseMs * 2 ** attempt;
    return Math.min(base + Math.random() * base, 10_000);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
