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

-- CreateTable
CREATE TABLE "AccessSession" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "organizationId" TEXT NOT NULL,
    "requestId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "assetId" TEXT,
    "credentialId" TEXT,
    "tokenHash" TEXT NOT NULL,
    "tokenExpiresAt" DATETIME NOT NULL,
    "tokenUsedAt" DATETIME,
    "state" TEXT NOT NULL DEFAULT 'ISSUED',
    "startedAt" DATETIME,
    "endedAt" DATETIME,
    "endReason" TEXT,
    "terminatedById" TEXT,
    "clientAddress" TEXT,
    "recordingWidth" INTEGER,
    "recordingHeight" INTEGER,
    "recordingChunks" INTEGER NOT NULL DEFAULT 0,
    "recordingBytes" INTEGER NOT NULL DEFAULT 0,
    "recordingSha256" TEXT,
    "createdAt" DATETIME NOT NULL,
    CONSTRAINT "AccessSession_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "AccessSession_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "AccessRequest" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "SessionRecordingChunk" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "sessionId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "sealed" TEXT NOT NULL,
    CONSTRAINT "SessionRecordingChunk_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "AccessSession" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_AccessPolicy" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "organizationId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "scope" TEXT NOT NULL,
    "requesters" TEXT NOT NULL,
    "steps" TEXT NOT NULL,
    "reviewRequired" BOOLEAN NOT NULL DEFAULT false,
    "reviewers" TEXT NOT NULL,
    "reviewCommentRequired" BOOLEAN NOT NULL DEFAULT false,
    "reasonRequired" BOOLEAN NOT NULL DEFAULT true,
    "ticketRequired" BOOLEAN NOT NULL DEFAULT false,
    "ticketPattern" TEXT,
    "defaultDurationMinutes" INTEGER NOT NULL,
    "maxDurationMinutes" INTEGER NOT NULL,
    "pendingTimeoutMinutes" INTEGER NOT NULL,
    "approversMayChangeWindow" BOOLEAN NOT NULL DEFAULT false,
    "rotateOnCheckIn" BOOLEAN NOT NULL DEFAULT false,
    "releasableFields" TEXT NOT NULL,
    "requestType" TEXT NOT NULL DEFAULT 'FIELD_RELEASE',
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    "createdById" TEXT,
    CONSTRAINT "AccessPolicy_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_AccessPolicy" ("approversMayChangeWindow", "createdAt", "createdById", "defaultDurationMinutes", "description", "enabled", "id", "maxDurationMinutes", "name", "organizationId", "pendingTimeoutMinutes", "reasonRequired", "releasableFields", "requesters", "reviewCommentRequired", "reviewRequired", "reviewers", "rotateOnCheckIn", "scope", "steps", "ticketPattern", "ticketRequired", "updatedAt") SELECT "approversMayChangeWindow", "createdAt", "createdById", "defaultDurationMinutes", "description", "enabled", "id", "maxDurationMinutes", "name", "organizationId", "pendingTimeoutMinutes", "reasonRequired", "releasableFields", "requesters", "reviewCommentRequired", "reviewRequired", "reviewers", "rotateOnCheckIn", "scope", "steps", "ticketPattern", "ticketRequired", "updatedAt" FROM "AccessPolicy";
DROP TABLE "AccessPolicy";
ALTER TABLE "new_AccessPolicy" RENAME TO "AccessPolicy";
CREATE INDEX "AccessPolicy_organizationId_name_idx" ON "AccessPolicy"("organizationId", "name");
CREATE TABLE "new_AccessRequest" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "organizationId" TEXT NOT NULL,
    "credentialId" TEXT,
    "credentialName" TEXT NOT NULL,
    "policyId" TEXT,
    "policySnapshot" TEXT NOT NULL,
    "requesterId" TEXT NOT NULL,
    "fields" TEXT NOT NULL,
    "reason" TEXT,
    "ticketNumber" TEXT,
    "state" TEXT NOT NULL DEFAULT 'PENDING',
    "version" INTEGER NOT NULL DEFAULT 0,
    "currentStep" INTEGER NOT NULL DEFAULT 0,
    "startsAt" DATETIME NOT NULL,
    "endsAt" DATETIME NOT NULL,
    "pendingExpiresAt" DATETIME NOT NULL,
    "availableAt" DATETIME,
    "closedAt" DATETIME,
    "reviewRequired" BOOLEAN NOT NULL DEFAULT false,
    "reviewedAt" DATETIME,
    "reviewedById" TEXT,
    "reviewComment" TEXT,
    "resubmittedFromId" TEXT,
    "hiddenByRequester" BOOLEAN NOT NULL DEFAULT false,
    "requestType" TEXT NOT NULL DEFAULT 'FIELD_RELEASE',
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "AccessRequest_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "AccessRequest_credentialId_fkey" FOREIGN KEY ("credentialId") REFERENCES "Credential" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "AccessRequest_policyId_fkey" FOREIGN KEY ("policyId") REFERENCES "AccessPolicy" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "AccessRequest_requesterId_fkey" FOREIGN KEY ("requesterId") REFERENCES "User" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "AccessRequest_reviewedById_fkey" FOREIGN KEY ("reviewedById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "AccessRequest_resubmittedFromId_fkey" FOREIGN KEY ("resubmittedFromId") REFERENCES "AccessRequest" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_AccessRequest" ("availableAt", "closedAt", "createdAt", "credentialId", "credentialName", "currentStep", "endsAt", "fields", "hiddenByRequester", "id", "organizationId", "pendingExpiresAt", "policyId", "policySnapshot", "reason", "requesterId", "resubmittedFromId", "reviewComment", "reviewRequired", "reviewedAt", "reviewedById", "startsAt", "state", "ticketNumber", "updatedAt", "version") SELECT "availableAt", "closedAt", "createdAt", "credentialId", "credentialName", "currentStep", "endsAt", "fields", "hiddenByRequester", "id", "organizationId", "pendingExpiresAt", "policyId", "policySnapshot", "reason", "requesterId", "resubmittedFromId", "reviewComment", "reviewRequired", "reviewedAt", "reviewedById", "startsAt", "state", "ticketNumber", "updatedAt", "version" FROM "AccessRequest";
DROP TABLE "AccessRequest";
ALTER TABLE "new_AccessRequest" RENAME TO "AccessRequest";
CREATE INDEX "AccessRequest_organizationId_state_createdAt_idx" ON "AccessRequest"("organizationId", "state", "createdAt");
CREATE INDEX "AccessRequest_requesterId_createdAt_idx" ON "AccessRequest"("requesterId", "createdAt");
CREATE INDEX "AccessRequest_credentialId_state_idx" ON "AccessRequest"("credentialId", "state");
CREATE INDEX "AccessRequest_state_startsAt_idx" ON "AccessRequest"("state", "startsAt");
CREATE INDEX "AccessRequest_state_endsAt_idx" ON "AccessRequest"("state", "endsAt");
CREATE INDEX "AccessRequest_state_pendingExpiresAt_idx" ON "AccessRequest"("state", "pendingExpiresAt");
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
    "importSource" TEXT,
    "importSourceId" TEXT,
    "assetId" TEXT,
    CONSTRAINT "Credential_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "Credential_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "Asset" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Credential_categoryId_fkey" FOREIGN KEY ("categoryId") REFERENCES "Category" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "Credential_folderId_fkey" FOREIGN KEY ("folderId") REFERENCES "Folder" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "Credential_createdById_fkey" FOREIGN KEY ("createdById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "Credential_updatedById_fkey" FOREIGN KEY ("updatedById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Credential" ("archivedAt", "autofillSelectors", "categoryId", "createdAt", "createdById", "currentVersion", "folderId", "id", "importSource", "importSourceId", "kind", "lastAccessedAt", "name", "notes", "organizationId", "passwordStrength", "passwordUpdatedAt", "publicKeyFingerprint", "resourceId", "resourceType", "restricted", "updatedAt", "updatedById", "url", "username") SELECT "archivedAt", "autofillSelectors", "categoryId", "createdAt", "createdById", "currentVersion", "folderId", "id", "importSource", "importSourceId", "kind", "lastAccessedAt", "name", "notes", "organizationId", "passwordStrength", "passwordUpdatedAt", "publicKeyFingerprint", "resourceId", "resourceType", "restricted", "updatedAt", "updatedById", "url", "username" FROM "Credential";
DROP TABLE "Credential";
ALTER TABLE "new_Credential" RENAME TO "Credential";
CREATE INDEX "Credential_organizationId_name_id_archivedAt_idx" ON "Credential"("organizationId", "name", "id", "archivedAt");
CREATE INDEX "Credential_organizationId_categoryId_idx" ON "Credential"("organizationId", "categoryId");
CREATE INDEX "Credential_organizationId_folderId_idx" ON "Credential"("organizationId", "folderId");
CREATE INDEX "Credential_assetId_idx" ON "Credential"("assetId");
CREATE UNIQUE INDEX "Credential_organizationId_importSource_importSourceId_key" ON "Credential"("organizationId", "importSource", "importSourceId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "Asset_organizationId_folderId_idx" ON "Asset"("organizationId", "folderId");

-- CreateIndex
CREATE UNIQUE INDEX "Asset_organizationId_name_key" ON "Asset"("organizationId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "AccessSession_tokenHash_key" ON "AccessSession"("tokenHash");

-- CreateIndex
CREATE INDEX "AccessSession_requestId_idx" ON "AccessSession"("requestId");

-- CreateIndex
CREATE INDEX "AccessSession_organizationId_createdAt_idx" ON "AccessSession"("organizationId", "createdAt");

-- CreateIndex
CREATE INDEX "AccessSession_state_idx" ON "AccessSession"("state");

-- CreateIndex
CREATE UNIQUE INDEX "SessionRecordingChunk_sessionId_seq_key" ON "SessionRecordingChunk"("sessionId", "seq");
