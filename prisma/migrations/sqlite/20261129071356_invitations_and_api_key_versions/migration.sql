-- CreateTable
CREATE TABLE "Invitation" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "organizationId" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "invitedById" TEXT,
    "createdAt" DATETIME NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "acceptedAt" DATETIME,
    "acceptedById" TEXT,
    "declinedAt" DATETIME,
    "revokedAt" DATETIME,
    CONSTRAINT "Invitation_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_CredentialApiKey" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "credentialId" TEXT NOT NULL,
    "clientIdentifier" TEXT NOT NULL,
    "secretIdentifier" TEXT,
    "position" INTEGER NOT NULL,
    "firstVersion" INTEGER NOT NULL DEFAULT 1,
    "retiredInVersion" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "CredentialApiKey_credentialId_fkey" FOREIGN KEY ("credentialId") REFERENCES "Credential" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_CredentialApiKey" ("clientIdentifier", "createdAt", "credentialId", "id", "position", "secretIdentifier") SELECT "clientIdentifier", "createdAt", "credentialId", "id", "position", "secretIdentifier" FROM "CredentialApiKey";
DROP TABLE "CredentialApiKey";
ALTER TABLE "new_CredentialApiKey" RENAME TO "CredentialApiKey";
CREATE INDEX "CredentialApiKey_credentialId_idx" ON "CredentialApiKey"("credentialId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "Invitation_tokenHash_key" ON "Invitation"("tokenHash");

-- CreateIndex
CREATE INDEX "Invitation_email_expiresAt_idx" ON "Invitation"("email", "expiresAt");

-- CreateIndex
CREATE INDEX "Invitation_organizationId_createdAt_idx" ON "Invitation"("organizationId", "createdAt");
