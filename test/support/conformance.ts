import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../src/api/openapi.js';
import { matchRoute } from '../../src/api/match.js';

/**
 * Every answer the API suites see is checked against the served OpenAPI document: the status is one
 * the route declares, the body fits that status's schema, and the declared headers are there. A
 * server that drifts from its document fails the suite that saw the answer, naming the route.
 */
type Entry = { responses: Record<string, { headers?: Record<string, unknown>; content?: { 'application/json'?: { schema: unknown } } }> };

let compiled: { paths: Record<string, Record<string, Entry>>; ajv: Ajv2020; validators: Map<string, ValidateFunction> } | undefined;

function document() {
  if (!compiled) {
    const doc = openApiDocument() as { paths: Record<string, Record<string, Entry>>; components: Record<string, unknown> };
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    // Schemas refer to `#/components/...`: the components, as a schema of their own, are where they resolve.
    ajv.addSchema({ $id: 'openapi', components: doc.components });
    compiled = { paths: doc.paths, ajv, validators: new Map() };
  }
  return compiled;
}

function validatorFor(key: string, schema: unknown): ValidateFunction {
  const { ajv, validators } = document();
  let validate = validators.get(key);
  if (!validate) {
    const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openapi#/components/'));
    validate = ajv.compile(rebased);
    validators.set(key, validate);
  }
  return validate;
}

/** Throws when an answer does not fit the document; answers of no route (404, 405) and console pages are not the document's. */
export function checkAnswer(method: string, url: string, status: number, headers: Headers, body: unknown): void {
  const path = new URL(url, 'http://x').pathname;
  const match = matchRoute(method, path);
  if (match.kind !== 'route' || match.spec.file) return;
  const where = `${method} ${path} (${match.operation}) answered ${status}`;
  const entry = document().paths[match.spec.path]?.[match.spec.method.toLowerCase()];
  const response = entry?.responses[String(status)];
  if (!response) throw new Error(`${where}, a status its OpenAPI entry does not declare: ${JSON.stringify(body)}`);
  for (const header of Object.keys(response.headers ?? {})) {
    if (!headers.has(header)) throw new Error(`${where} without the ${header} header its OpenAPI entry declares`);
  }
  const schema = response.content?.['application/json']?.schema;
  if (!schema) return;
  const validate = validatorFor(`${match.operation} ${status}`, schema);
  if (!validate(body)) {
    throw new Error(`${where} with a body its OpenAPI entry does not allow: ${JSON.stringify(validate.errors?.slice(0, 3))} in ${JSON.stringify(body).slice(0, 500)}`);
  }
}
