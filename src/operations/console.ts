import type { Routes } from '../api/routes.js';
import type { Deps } from '../deps.js';
import { ProvisionerError } from '../domain/errors.js';
import { ok } from '../http/reply.js';
import type { OperationFn } from '../http/types.js';

/**
 * Every console file carries these: scripts and styles only from this origin (no inline script),
 * requests only to this API, never framed, never sniffed. Trusted Types (no policy may be made)
 * make any string reaching an HTML or script sink an error in browsers that have them, so
 * rendering values as text is enforced, not only a habit of the code.
 */
export const consoleHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

const contentTypes: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

type ConsoleDeps = Pick<Deps, 'consoleFiles'>;

/** The page: always revalidated, so a new deployment's page (and its new asset names) is seen at once. */
export const consolePage: OperationFn<Routes['console'], ConsoleDeps> = async (_input, { deps }) => reply(await deps.consoleFiles.files(), 'index.html', 'no-cache');

/** Scripts and styles, named by their content's hash: cached for good. */
export const consoleFile: OperationFn<Routes['console-file'], ConsoleDeps> = async ({ params }, { deps }) => {
  if (params.file === 'index.html') throw notFound(params.file);
  return reply(await deps.consoleFiles.files(), params.file, 'public, max-age=31536000, immutable');
};

function reply(files: ReadonlyMap<string, string>, name: string, cacheControl: string) {
  const body = files.get(name);
  const type = contentTypes[name.slice(name.lastIndexOf('.') + 1)];
  if (body === undefined || !type) throw notFound(name);
  return ok(body, { ...consoleHeaders, 'content-type': type, 'cache-control': cacheControl });
}

function notFound(name: string): ProvisionerError {
  return new ProvisionerError('not_found', `The console has no file ${name}; open it at /.`);
}
