import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCatalog, shipCatalog } from '../src/domain/catalog.js';

/** The file written for each catalog text seen (a synth asks once per function, ≈50 times). */
const written = new Map<string, string>();

/**
 * The catalog.json a function ships: the catalog at `catalogPath`, validated now (a bad one fails the
 * synth, naming the field) and written in the form Lambda reads without validating again. The file
 * is named by its content, so every function of a synth copies the same one.
 */
export function shippedCatalogFile(catalogPath: string): string {
  const raw = readFileSync(catalogPath, 'utf8');
  let file = written.get(raw);
  if (!file) {
    const text = shipCatalog(parseCatalog(raw, catalogPath));
    file = join(tmpdir(), `provisioner-catalog-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
    writeFileSync(file, text);
    written.set(raw, file);
  }
  return file;
}
