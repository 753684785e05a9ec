-- CreateTable
CREATE TABLE "Workflow" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "organizationId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "trigger" TEXT NOT NULL,
    "filters" TEXT NOT NULL,
    "actions" TEXT NOT NULL,
    "signingSecret" TEXT NOT NULL,
    "failureEmail" TEXT,
    "failureThreshold" INTEGER NOT NULL DEFAULT 1,
    "consecutiveFailures" INTEGER NOT NULL DEFAULT 0,
    "startSeq" INTEGER NOT NULL,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    "createdById" TEXT,
    CONSTRAINT "Workflow_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "WorkflowCursor" (
    "chain" TEXT NOT NULL PRIMARY KEY,
    "seq" INTEGER NOT NULL
);

-- CreateTable
CREATE TABLE "WorkflowDelivery" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "workflowId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "chain" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "actionIndex" INTEGER NOT NULL,
    "actionType" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "maxAttempts" INTEGER NOT NULL,
    "nextAttemptAt" DATETIME NOT NULL,
    "leaseUntil" DATETIME,
    "variables" TEXT NOT NULL,
    "test" BOOLEAN NOT NULL DEFAULT false,
    "lastError" TEXT,
    "createdAt" DATETIME NOT NULL,
    "deliveredAt" DATETIME,
    CONSTRAINT "WorkflowDelivery_workflowId_fkey" FOREIGN KEY ("workflowId") REFERENCES "Workflow" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "WorkflowDeliveryAttempt" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "deliveryId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "startedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME,
    "outcome" TEXT NOT NULL,
    "statusCode" INTEGER,
    "error" TEXT,
    CONSTRAINT "WorkflowDeliveryAttempt_deliveryId_fkey" FOREIGN KEY ("deliveryId") REFERENCES "WorkflowDelivery" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "Workflow_organizationId_name_idx" ON "Workflow"("organizationId", "name");

-- CreateIndex
CREATE INDEX "Workflow_enabled_idx" ON "Workflow"("enabled");

-- CreateIndex
CREATE INDEX "WorkflowDelivery_status_nextAttemptAt_idx" ON "WorkflowDelivery"("status", "nextAttemptAt");

-- CreateIndex
CREATE INDEX "WorkflowDelivery_workflowId_createdAt_idx" ON "WorkflowDelivery"("workflowId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "WorkflowDelivery_workflowId_chain_seq_actionIndex_key" ON "WorkflowDelivery"("workflowId", "chain", "seq", "actionIndex");

-- CreateIndex
CREATE UNIQUE INDEX "WorkflowDeliveryAttempt_deliveryId_number_key" ON "WorkflowDeliveryAttempt"("deliveryId", "number");
