// Loaded only by `prisma dev` (a local Prisma Postgres server), which vaultgate does not use. See docs/development.md.
throw new Error('vaultgate: `prisma dev` is not supported here; @prisma/streams-local is replaced by a stub (docs/development.md)');
