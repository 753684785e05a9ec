-- CreateEnum
CREATE TYPE "AccessRequestState" AS ENUM ('PENDING', 'APPROVED', 'AVAILABLE', 'CHECKED_IN', 'EXPIRED', 'DENIED', 'REVOKED', 'CANCELLED');

-- CreateTable
CREATE TABLE "AccessPolicy" (
    "id" TEXT NOT NULL,
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
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "createdById" TEXT,

    CONSTRAINT "AccessPolicy_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AccessRequest" (
    "id" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "credentialId" TEXT,
    "credentialName" TEXT NOT NULL,
    "policyId" TEXT,
    "policySnapshot" TEXT NOT NULL,
    "requesterId" TEXT NOT NULL,
    "fields" TEXT NOT NULL,
    "reason" TEXT,
    "ticketNumber" TEXT,
    "state" "AccessRequestState" NOT NULL DEFAULT 'PENDING',
    "version" INTEGER NOT NULL DEFAULT 0,
    "currentStep" INTEGER NOT NULL DEFAULT 0,
    "startsAt" TIMESTAMP(3) NOT NULL,
    "endsAt" TIMESTAMP(3) NOT NULL,
    "pendingExpiresAt" TIMESTAMP(3) NOT NULL,
    "availableAt" TIMESTAMP(3),
    "closedAt" TIMESTAMP(3),
    "reviewRequired" BOOLEAN NOT NULL DEFAULT false,
    "reviewedAt" TIMESTAMP(3),
    "reviewedById" TEXT,
    "reviewComment" TEXT,
    "resubmittedFromId" TEXT,
    "hiddenByRequester" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AccessRequest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AccessApproval" (
    "id" TEXT NOT NULL,
    "requestId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "approverId" TEXT NOT NULL,
    "decision" TEXT NOT NULL,
    "comment" TEXT,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AccessApproval_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AccessRequestHistory" (
    "id" TEXT NOT NULL,
    "requestId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "actorUserId" TEXT,
    "action" TEXT NOT NULL,
    "comment" TEXT,
    "fromState" "AccessRequestState",
    "toState" "AccessRequestState" NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AccessRequestHistory_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AccessRequestParticipant" (
    "id" TEXT NOT NULL,
    "requestId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "step" INTEGER,
    "userId" TEXT,
    "role" "Role",

    CONSTRAINT "AccessRequestParticipant_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "AccessPolicy_organizationId_name_idx" ON "AccessPolicy"("organizationId", "name");

-- CreateIndex
CREATE INDEX "AccessRequest_organizationId_state_createdAt_idx" ON "AccessRequest"("organizationId", "state", "createdAt");

-- CreateIndex
CREATE INDEX "AccessRequest_requesterId_createdAt_idx" ON "AccessRequest"("requesterId", "createdAt");

-- CreateIndex
CREATE INDEX "AccessRequest_credentialId_state_idx" ON "AccessRequest"("credentialId", "state");

-- CreateIndex
CREATE INDEX "AccessRequest_state_startsAt_idx" ON "AccessRequest"("state", "startsAt");

-- CreateIndex
CREATE INDEX "AccessRequest_state_endsAt_idx" ON "AccessRequest"("state", "endsAt");

-- CreateIndex
CREATE INDEX "AccessRequest_state_pendingExpiresAt_idx" ON "AccessRequest"("state", "pendingExpiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "AccessApproval_requestId_step_approverId_key" ON "AccessApproval"("requestId", "step", "approverId");

-- CreateIndex
CREATE UNIQUE INDEX "AccessRequestHistory_requestId_seq_key" ON "AccessRequestHistory"("requestId", "seq");

-- CreateIndex
CREATE INDEX "AccessRequestParticipant_requestId_idx" ON "AccessRequestParticipant"("requestId");

-- CreateIndex
CREATE INDEX "AccessRequestParticipant_userId_idx" ON "AccessRequestParticipant"("userId");

-- CreateIndex
CREATE INDEX "AccessRequestParticipant_organizationId_role_idx" ON "AccessRequestParticipant"("organizationId", "role");

-- AddForeignKey
ALTER TABLE "AccessPolicy" ADD CONSTRAINT "AccessPolicy_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccessRequest" ADD CONSTRAINT "AccessRequest_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccessRequest" ADD CONSTRAINT "AccessRequest_credentialId_fkey" FOREIGN KEY ("credentialId") REFERENCES "Credential"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccessRequest" ADD CONSTRAINT "AccessRequest_policyId_fkey" FOREIGN KEY ("policyId") REFERENCES "AccessPolicy"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccessRequest" ADD CONSTRAINT "AccessRequest_requesterId_fkey" FOREIGN KEY ("requesterId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccessRequest" ADD CONSTRAINT "AccessRequest_reviewedById_fkey" FOREIGN KEY ("reviewedById") REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccessRequest" ADD CONSTRAINT "AccessRequest_resubmittedFromId_fkey" FOREIGN KEY ("resubmittedFromId") REFERENCES "AccessRequest"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccessApproval" ADD CONSTRAINT "AccessApproval_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "AccessRequest"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccessApproval" ADD CONSTRAINT "AccessApproval_approverId_fkey" FOREIGN KEY ("approverId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccessRequestHistory" ADD CONSTRAINT "AccessRequestHistory_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "AccessRequest"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AccessRequestParticipant" ADD CONSTRAINT "AccessRequestParticipant_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "AccessRequest"("id") ON DELETE CASCADE ON UPDATE CASCADE;
