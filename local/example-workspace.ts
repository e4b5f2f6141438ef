/**
 * The local stand-in for a workspace (what the ECS service runs in AWS): an HTTP server on $PORT
 * that answers every path with the workspace it is and the environment Provisioner gave it, so a
 * developer can see the merged values. `npm start` runs one per workspace.
 */
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 0);
// Only the variables Provisioner set from the workspace's values (WORKSPACE_VARIABLES names them), never the rest of the environment.
const names = JSON.parse(process.env.WORKSPACE_VARIABLES ?? '[]') as string[];
const environment = Object.fromEntries(names.map((name) => [name, process.env[name]]));

createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ workspace: process.env.WORKSPACE_ID, path: request.url, environment }));
}).listen(port, '127.0.0.1');
