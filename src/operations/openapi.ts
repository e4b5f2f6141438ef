import { openApiDocument } from '../api/openapi.js';
import type { Routes } from '../api/routes.js';
import { ok } from '../http/reply.js';
import type { OperationFn } from '../http/types.js';
import { once } from '../once.js';

/** Generated on first request, then served from memory. */
const document = once(openApiDocument);

export const openapi: OperationFn<Routes['openapi'], unknown> = async () => ok(document());
