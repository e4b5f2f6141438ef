/**
 * The example workbench the local backend runs, one process per started workbench: a small HTTP
 * server that says whose workbench it is, and keeps a file in its data directory to show that data
 * outlives a stop.
 *
 * Environment: PORT, WORKBENCH_ID, WORKBENCH_NAME, WORKBENCH_OWNER, WORKBENCH_DATA.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const { PORT = '0', WORKBENCH_ID = '', WORKBENCH_NAME = '', WORKBENCH_OWNER = '', WORKBENCH_DATA } = process.env;

let starts = 1;
if (WORKBENCH_DATA) {
  mkdirSync(WORKBENCH_DATA, { recursive: true });
  const file = join(WORKBENCH_DATA, 'starts');
  try {
    starts = Number(readFileSync(file, 'utf8')) + 1;
  } catch {
    // first start
  }
  writeFileSync(file, String(starts));
}

createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ workbench: WORKBENCH_ID, name: WORKBENCH_NAME, owner: WORKBENCH_OWNER, starts, path: req.url }));
}).listen(Number(PORT), '127.0.0.1');

process.on('SIGTERM', () => process.exit(0));
