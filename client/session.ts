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
 * The one place the client does HTTP: JSON both ways, the API's errors as ProvisionerApiError,
 * retries with exponential backoff and jitter on 429, 503 and network errors (honouring
 * Retry-After), and a timeout per attempt. 4xx answers are never retried.
 */
export class Session {
  constructor(
    private readonly config: Pick<ClientConfig, 'url' | 'retries' | 'timeoutMs'>,
    private readonly token: () => Promise<string | undefined> = async () => undefined,
    private readonly retryBaseMs = 250,
  ) {}

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = new URL(this.config.url + path);
    for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const token = options.auth === false ? undefined : await this.token();
    const init: RequestInit = {
      method,
      headers: {
        accept: 'application/json',
        ...(options.body !== undefined && { 'content-type': 'application/json' }),
        ...(token && { authorization: `Bearer ${token}` }),
      },
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
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
      const body = text ? safeJson(text) : undefined;
      if (response.ok) return body as T;
      const error = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
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
