/** Replies with their status as a literal type, so the route table checks the body of each. */
export const ok = <T>(body: T, headers?: Record<string, string>) => ({ status: 200 as const, body, ...(headers && { headers }) });
export const accepted = <T>(body: T) => ({ status: 202 as const, body });
export const created = <T>(body: T, headers?: Record<string, string>) => ({ status: 201 as const, body, ...(headers && { headers }) });
export const noContent = () => ({ status: 204 as const, body: undefined });
