-- CreateTable
CREATE TABLE "Asset" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "organizationId" TEXT NOT NULL,
    "folderId" TEXT,
    "name" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL DEFAULT 22,
    "protocol" TEXT NOT NULL DEFAULT 'SSH',
    "hostKeyFingerprint" TEXT,
    "hostKeyPinnedAt" DATETIME,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Asset_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Asset_folderId_fkey" FOREIGN KEY ("folderId") REFERENCES "Folder" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Credential" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "organizationId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "username" TEXT,
    "url" TEXT,
    "notes" TEXT,
    "categoryId" TEXT,
    "folderId" TEXT,
    "restricted" BOOLEAN NOT NULL DEFAULT false,
    "resourceType" TEXT,
    "resourceId" TEXT,
    "autofillSelectors" TEXT,
    "publicKeyFingerprint" TEXT,
    "passwordStrength" INTEGER,
    "currentVersion" INTEGER NOT NULL DEFAULT 1,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "passwordUpdatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastAccessedAt" DATETIME,
    "createdById" TEXT,
    "updatedById" TEXT,
    "archivedAt" DATETIME,
    "assetId" TEXT,
    CONSTRAINT "Credential_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Credential_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "Asset" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Credential_categoryId_fkey" FOREIGN KEY ("categoryId") REFERENCES "Category" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "Credential_folderId_fkey" FOREIGN KEY ("folderId") REFERENCES "Folder" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "Credential_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Credential_updatedById_fkey" FOREIGN KEY ("updatedById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Credential" ("archivedAt", "autofillSelectors", "categoryId", "createdAt", "createdById", "currentVersion", "folderId", "id", "kind", "lastAccessedAt", "name", "notes", "organizationId", "passwordStrength", "passwordUpdatedAt", "publicKeyFingerprint", "resourceId", "resourceType", "restricted", "updatedAt", "updatedById", "url", "username") SELECT "archivedAt", "autofillSelectors", "categoryId", "createdAt", "createdById", "currentVersion", "folderId", "id", "kind", "lastAccessedAt", "name", "notes", "organizationId", "passwordStrength", "passwordUpdatedAt", "publicKeyFingerprint", "resourceId", "resourceType", "restricted", "updatedAt", "updatedById", "url", "username" FROM "Credential";
DROP TABLE "Credential";
ALTER TABLE "new_Credential" RENAME TO "Credential";
CREATE INDEX "Credential_organizationId_name_id_archivedAt_idx" ON "Credential"("organizationId", "name", "id", "archivedAt");
CREATE INDEX "Credential_organizationId_categoryId_idx" ON "Credential"("organizationId", "categoryId");
CREATE INDEX "Credential_organizationId_folderId_idx" ON "Credential"("organizationId", "folderId");
CREATE INDEX "Credential_assetId_idx" ON "Credential"("assetId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "Asset_organizationId_folderId_idx" ON "Asset"("organizationId", "folderId");

-- CreateIndex
CREATE UNIQUE INDEX "Asset_organizationId_name_key" ON "Asset"("organizationId", "name");
