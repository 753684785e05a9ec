-- CreateTable
CREATE TABLE "Workflow" (
    "id" TEXT NOT NULL,
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
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "createdById" TEXT,

    CONSTRAINT "Workflow_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WorkflowCursor" (
    "chain" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,

    CONSTRAINT "WorkflowCursor_pkey" PRIMARY KEY ("chain")
);

-- CreateTable
CREATE TABLE "WorkflowDelivery" (
    "id" TEXT NOT NULL,
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
    "nextAttemptAt" TIMESTAMP(3) NOT NULL,
    "leaseUntil" TIMESTAMP(3),
    "variables" TEXT NOT NULL,
    "test" BOOLEAN NOT NULL DEFAULT false,
    "lastError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "deliveredAt" TIMESTAMP(3),

    CONSTRAINT "WorkflowDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WorkflowDeliveryAttempt" (
    "id" TEXT NOT NULL,
    "deliveryId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),
    "outcome" TEXT NOT NULL,
    "statusCode" INTEGER,
    "error" TEXT,

    CONSTRAINT "WorkflowDeliveryAttempt_pkey" PRIMARY KEY ("id")
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

-- AddForeignKey
ALTER TABLE "Workflow" ADD CONSTRAINT "Workflow_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WorkflowDelivery" ADD CONSTRAINT "WorkflowDelivery_workflowId_fkey" FOREIGN KEY ("workflowId") REFERENCES "Workflow"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WorkflowDeliveryAttempt" ADD CONSTRAINT "WorkflowDeliveryAttempt_deliveryId_fkey" FOREIGN KEY ("deliveryId") REFERENCES "WorkflowDelivery"("id") ON DELETE CASCADE ON UPDATE CASCADE;
