-- CreateEnum
CREATE TYPE "AssetProtocol" AS ENUM ('SSH');

-- AlterTable
ALTER TABLE "Credential" ADD COLUMN     "assetId" TEXT;

-- AlterTable
ALTER TABLE "AccessPolicy" ADD COLUMN     "requestType" TEXT NOT NULL DEFAULT 'FIELD_RELEASE';

-- AlterTable
ALTER TABLE "AccessRequest" ADD COLUMN     "requestType" TEXT NOT NULL DEFAULT 'FIELD_RELEASE';

-- CreateTable
CREATE TABLE "Asset" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "folderId" TEXT,
    "name" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "port" INTEGER NOT NULL DEFAULT 22,
    "protocol" "AssetProtocol" NOT NULL DEFAULT 'SSH',
    "hostKeyFingerprint" TEXT,
    "hostKeyPinnedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Asset_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AccessSession" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "requestId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "assetId" TEXT,
    "credentialId" TEXT,
    "tokenHash" TEXT NOT NULL,
    "tokenExpiresAt" TIMESTAMP(3) NOT NULL,
    "tokenUsedAt" TIMESTAMP(3),
    "state" TEXT NOT NULL DEFAULT 'ISSUED',
    "startedAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),
    "endReason" TEXT,
    "terminatedById" TEXT,
    "clientAddress" TEXT,
    "recordingWidth" INTEGER,
    "recordingHeight" INTEGER,
    "recordingChunks" INTEGER NOT NULL DEFAULT 0,
    "recordingBytes" INTEGER NOT NULL DEFAULT 0,
    "recordingSha256" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AccessSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SessionRecordingChunk" (
    "id" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "sealed" TEXT NOT NULL,

    CONSTRAINT "SessionRecordingChunk_pkey" PRIMARY KEY ("id")
);

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

-- CreateIndex
CREATE INDEX "Credential_assetId_idx" ON "Credential"("assetId");

-- AddForeignKey
ALTER TABLE "Credential" ADD CONSTRAINT "Credential_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "Asset"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Asset" ADD CONSTRAINT "Asset_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Asset" ADD CONSTRAINT "Asset_folderId_fkey" FOREIGN KEY ("folderId") REFERENCES "Folder"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccessSession" ADD CONSTRAINT "AccessSession_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccessSession" ADD CONSTRAINT "AccessSession_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "AccessRequest"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SessionRecordingChunk" ADD CONSTRAINT "SessionRecordingChunk_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "AccessSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;
