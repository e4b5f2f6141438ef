import { createCall } from './call.js';
import type { Session } from './session.js';
import type { OperationInput, OperationOutput, Page, PageOptions } from './types.js';

export type ApiToken = OperationOutput<'token-list'>['items'][number];
export type CreatedApiToken = OperationOutput<'token-create'>;
export type NewApiToken = OperationInput<'token-create'>['body'];

/** `tokens`: scoped, expiring API tokens for automation (`PROVISIONER_API_TOKEN`). */
export function tokensService(session: Session) {
  const call = createCall(session);
  return {
    /** The secret (`token`) is in this answer only: store it at once. */
    create: (token: NewApiToken): Promise<CreatedApiToken> => call('token-create', { body: token }),
    /** Your tokens, newest first, never their secrets (administrators: `owner` for someone else's). */
    list: (page: PageOptions & { owner?: string } = {}): Promise<Page<ApiToken>> =>
      call('token-list', { query: { limit: page.limit, next_token: page.nextToken, owner: page.owner } }),
    /** Revokes a token: it no longer exchanges, and its sessions end within a minute. Idempotent. */
    revoke: (id: string): Promise<void> => call('token-revoke', { params: { token_id: id } }),
  };
}
