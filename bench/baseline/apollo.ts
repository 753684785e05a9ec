// The P1 peer (issue 19): the same credentials list served by the conventional stack a team would otherwise write —
// Apollo Server (current major) + Prisma 7 (the same generated client and driver adapter as vaultgate) + DataLoader,
// plain SDL resolvers, on node:http. It authenticates each request by looking its bearer token up (sessions are
// vaultgate's own table) and checks membership, as any multi-tenant API must; it has no policy engine, no query
// limits, no audit. Its body is byte-identical to vaultgate's (checked before measuring).
import http from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';
import DataLoader from 'dataloader';
import { encodeGlobalID, decodeGlobalID } from '@pothos/plugin-relay';
import { createDb } from '../../src/db/client.ts';
import { hashToken } from '../../src/lib/tokens.ts';

const db = createDb(process.env.DATABASE_URL!);

const typeDefs = /* GraphQL */ `
  type Query {
    credentials(filter: CredentialFilter!, first: Int): CredentialConnection!
  }
  input CredentialFilter {
    organizationId: ID!
  }
  type CredentialConnection {
    edges: [CredentialEdge!]!
  }
  type CredentialEdge {
    node: Credential!
  }
  type Credential {
    id: ID!
    name: String!
    username: String
    category: Category
    folder: Folder
    lastAccessedAt: String
  }
  type Category {
    name: String!
  }
  type Folder {
    name: String!
  }
`;

type Ctx = { userId: string | null; categories: DataLoader<string, { name: string } | null>; folders: DataLoader<string, { name: string } | null> };
type Row = { id: string; name: string; username: string | null; categoryId: string | null; folderId: string | null; lastAccessedAt: Date | null };

const byId = <T extends { id: string }>(ids: readonly string[], rows: T[]) => {
  const map = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => map.get(id) ?? null);
};

const resolvers = {
  Query: {
    credentials: async (_: unknown, args: { filter: { organizationId: string }; first?: number }, ctx: Ctx) => {
      if (!ctx.userId) throw new Error('Sign in first.');
      const organizationId = decodeGlobalID(args.filter.organizationId).id;
      const member = await db.membership.findFirst({ where: { userId: ctx.userId, organizationId }, select: { id: true } });
      if (!member) throw new Error('Not found, or not allowed.');
      const rows = await db.credential.findMany({
        where: { organizationId, archivedAt: null },
        orderBy: [{ name: 'asc' }, { id: 'asc' }],
        take: Math.min(args.first ?? 50, 100),
        select: { id: true, name: true, username: true, categoryId: true, folderId: true, lastAccessedAt: true },
      });
      return { edges: rows.map((node) => ({ node })) };
    },
  },
  Credential: {
    id: (c: Row) => encodeGlobalID('Credential', c.id),
    category: (c: Row, _: unknown, ctx: Ctx) => (c.categoryId ? ctx.categories.load(c.categoryId) : null),
    folder: (c: Row, _: unknown, ctx: Ctx) => (c.folderId ? ctx.folders.load(c.folderId) : null),
    lastAccessedAt: (c: Row) => c.lastAccessedAt?.toISOString() ?? null,
  },
};

const apollo = new ApolloServer<Ctx>({ typeDefs, resolvers, introspection: false });
await apollo.start();

async function contextFor(authorization: string | undefined): Promise<Ctx> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  const session = token ? await db.session.findUnique({ where: { tokenHash: hashToken(token) }, select: { userId: true, revokedAt: true, expiresAt: true } }) : null;
  const valid = session && !session.revokedAt && session.expiresAt > new Date();
  return {
    userId: valid ? session.userId : null,
    categories: new DataLoader(async (ids) => byId(ids, await db.category.findMany({ where: { id: { in: [...ids] } }, select: { id: true, name: true } })).map((c) => (c ? { name: c.name } : null))),
    folders: new DataLoader(async (ids) => byId(ids, await db.folder.findMany({ where: { id: { in: [...ids] } }, select: { id: true, name: true } })).map((f) => (f ? { name: f.name } : null))),
  };
}

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') return res.end('{"status":"ok"}');
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    try {
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method ?? 'POST', headers, search: '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) },
        context: () => contextFor(req.headers.authorization),
      });
      const out: Record<string, string> = {};
      for (const [k, v] of result.headers) out[k] = v;
      res.writeHead(result.status ?? 200, out);
      if (result.body.kind === 'complete') return res.end(result.body.string);
      for await (const part of result.body.asyncIterator) res.write(part);
      res.end();
    } catch (error) {
      res.writeHead(500);
      res.end(String(error));
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
