-- DropIndex
DROP INDEX "Credential_organizationId_archivedAt_name_idx";

-- CreateIndex
CREATE INDEX "Credential_organizationId_name_id_archivedAt_idx" ON "Credential"("organizationId", "name", "id", "archivedAt");
