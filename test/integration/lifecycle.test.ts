import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer } from '../support/harness.ts';
import { createOrg } from '../support/fixtures.ts';

describe('graceful shutdown', () => {
  it('closes WebSockets with 1001, stops listening, and is safe to call twice', async () => {
    const server = await startTestServer();
    const org = await createOrg(server, 'shutdown');
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    const acked = new Promise<void>((resolve) => socket.on('message', (m) => JSON.parse(String(m)).type === 'connection_ack' && resolve()));
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { token: org.admin.token } })));
    await acked;
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));

    await Promise.all([server.app.stop(), server.app.stop()]);
    expect(await closed).toBe(1001);
    await expect(fetch(server.url.replace('/graphql', '/healthz'))).rejects.toThrow();
    await server.db.drop();
  });
});
