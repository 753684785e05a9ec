-- CreateEnum
CREATE TYPE "AssetProtocol" AS ENUM ('SSH');

-- AlterTable
ALTER TABLE "Credential" ADD COLUMN     "assetId" TEXT;

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

-- CreateIndex
CREATE INDEX "Asset_organizationId_folderId_idx" ON "Asset"("organizationId", "folderId");

-- CreateIndex
CREATE UNIQUE INDEX "Asset_organizationId_name_key" ON "Asset"("organizationId", "name");

-- CreateIndex
CREATE INDEX "Credential_assetId_idx" ON "Credential"("assetId");

-- AddForeignKey
ALTER TABLE "Credential" ADD CONSTRAINT "Credential_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "Asset"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Asset" ADD CONSTRAINT "Asset_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Asset" ADD CONSTRAINT "Asset_folderId_fkey" FOREIGN KEY ("folderId") REFERENCES "Folder"("id") ON DELETE SET NULL ON UPDATE CASCADE;
