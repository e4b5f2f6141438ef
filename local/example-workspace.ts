/**
 * The local stand-in for a workspace (what the ECS service runs in AWS): an HTTP server on $PORT
 * that answers every path with the workspace it is and the values Provisioner gave it, so a
 * developer can see the merged values. `npm start` runs one per workspace.
 */
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 0);
// Values arrive only as PROVISIONER_VALUE_<KEY> (`pachd.logLevel` → PROVISIONER_VALUE_PACHD_LOGLEVEL); nothing else of the environment is shown.
const prefix = 'PROVISIONER_VALUE_';
const values = Object.fromEntries(Object.entries(process.env).filter(([name]) => name.startsWith(prefix)));

createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ workspace: process.env.WORKSPACE_ID, path: request.url, values }));
}).listen(port, '127.0.0.1');
