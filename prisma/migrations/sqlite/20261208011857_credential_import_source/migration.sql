-- AlterTable
ALTER TABLE "Credential" ADD COLUMN "importSource" TEXT;
ALTER TABLE "Credential" ADD COLUMN "importSourceId" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Credential_organizationId_importSource_importSourceId_key" ON "Credential"("organizationId", "importSource", "importSourceId");
