// The baseline: the least a Node HTTP server can do for a request.
import { createServer } from 'node:http';

const body = JSON.stringify({ status: 'ok', version: '0.0.0', time: new Date().toISOString() });
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
