-- CreateTable
CREATE TABLE "WebAuthnChallenge" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "challenge" TEXT NOT NULL,
    "mfaChallengeId" TEXT,
    "sessionId" TEXT,
    "expiresAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "WebAuthnChallenge_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_UserFactor" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "sealedSecret" TEXT,
    "masterKeyId" TEXT,
    "lastUsedStep" INTEGER NOT NULL DEFAULT 0,
    "credentialId" TEXT,
    "publicKey" TEXT,
    "signCount" INTEGER NOT NULL DEFAULT 0,
    "transports" TEXT,
    "confirmedAt" DATETIME,
    "lastUsedAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "UserFactor_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_UserFactor" ("confirmedAt", "createdAt", "id", "kind", "lastUsedAt", "lastUsedStep", "masterKeyId", "name", "sealedSecret", "userId") SELECT "confirmedAt", "createdAt", "id", "kind", "lastUsedAt", "lastUsedStep", "masterKeyId", "name", "sealedSecret", "userId" FROM "UserFactor";
DROP TABLE "UserFactor";
ALTER TABLE "new_UserFactor" RENAME TO "UserFactor";
CREATE UNIQUE INDEX "UserFactor_credentialId_key" ON "UserFactor"("credentialId");
CREATE INDEX "UserFactor_userId_idx" ON "UserFactor"("userId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "WebAuthnChallenge_challenge_key" ON "WebAuthnChallenge"("challenge");

-- CreateIndex
CREATE INDEX "WebAuthnChallenge_userId_idx" ON "WebAuthnChallenge"("userId");
