import { type Operation, type RouteSpec, routeEntries } from './routes.js';

interface CompiledRoute {
  operation: Operation;
  spec: RouteSpec;
  pattern: RegExp;
  names: string[];
}

const compiled: CompiledRoute[] = routeEntries.map(([operation, spec]) => {
  const names: string[] = [];
  const source = spec.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { operation, spec, pattern: new RegExp(`^${source}$`), names };
});

export type RouteMatch =
  | { kind: 'route'; operation: Operation; spec: RouteSpec; params: Record<string, string> }
  | { kind: 'wrong_method'; allowed: string[] }
  | { kind: 'none' };

/** Finds the route of a request the way API Gateway does: by method and path template. */
export function matchRoute(method: string, path: string): RouteMatch {
  const allowed: string[] = [];
  for (const route of compiled) {
    const found = route.pattern.exec(path);
    if (!found) continue;
    if (route.spec.method !== method) {
      allowed.push(route.spec.method);
      continue;
    }
    const params: Record<string, string> = {};
    route.names.forEach((name, i) => {
      params[name] = safeDecode(found[i + 1] ?? '');
    });
    return { kind: 'route', operation: route.operation, spec: route.spec, params };
  }
  return allowed.length > 0 ? { kind: 'wrong_method', allowed } : { kind: 'none' };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
