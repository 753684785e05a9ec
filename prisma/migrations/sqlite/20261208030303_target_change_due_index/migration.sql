-- CreateIndex
CREATE INDEX "Credential_targetStatus_targetCheckedAt_idx" ON "Credential"("targetStatus", "targetCheckedAt");
