// The WebSocket baseline (P4, P5): node:http + `ws`, nothing else. It answers the graphql-ws handshake the
// bench clients speak (connection_init → connection_ack, then a subscribe it merely notes), holds the sockets,
// and on POST /broadcast sends the request body — serialized once — to every open socket. What vaultgate adds
// on top of this (authentication, per-subscriber policy, audit reads, GraphQL execution) is what P4/P5 measure.
import http from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') return res.end('{"status":"ok"}');
  if (req.method === 'POST' && req.url === '/broadcast') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const message = Buffer.concat(chunks);
      let sent = 0;
      for (const socket of wss.clients) {
        if (socket.readyState !== WebSocket.OPEN) continue;
        // Text frame, like graphql-ws: the same bytes on the wire as vaultgate's `next` message.
        socket.send(message, { binary: false });
        sent++;
      }
      res.end(JSON.stringify({ sent }));
    });
    return;
  }
  res.statusCode = 404;
  res.end();
});

const wss = new WebSocketServer({ server, path: '/graphql' });
wss.on('connection', (socket) => {
  socket.on('message', (data) => {
    const type = (JSON.parse(String(data)) as { type?: string }).type;
    if (type === 'connection_init') socket.send('{"type":"connection_ack"}');
  });
});

server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
