-- CreateIndex
CREATE INDEX "AuditEvent_chain_targetType_targetId_seq_idx" ON "AuditEvent"("chain", "targetType", "targetId", "seq");

-- CreateIndex
CREATE INDEX "AuditEvent_chain_actorUserId_seq_idx" ON "AuditEvent"("chain", "actorUserId", "seq");
