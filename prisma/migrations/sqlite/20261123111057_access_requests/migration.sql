-- CreateTable
CREATE TABLE "AccessPolicy" (
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
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    "createdById" TEXT,
    CONSTRAINT "AccessPolicy_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AccessRequest" (
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
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "AccessRequest_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "AccessRequest_credentialId_fkey" FOREIGN KEY ("credentialId") REFERENCES "Credential" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "AccessRequest_policyId_fkey" FOREIGN KEY ("policyId") REFERENCES "AccessPolicy" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "AccessRequest_requesterId_fkey" FOREIGN KEY ("requesterId") REFERENCES "User" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "AccessRequest_reviewedById_fkey" FOREIGN KEY ("reviewedById") REFERENCES "User" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "AccessRequest_resubmittedFromId_fkey" FOREIGN KEY ("resubmittedFromId") REFERENCES "AccessRequest" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AccessApproval" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "requestId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "approverId" TEXT NOT NULL,
    "decision" TEXT NOT NULL,
    "comment" TEXT,
    "at" DATETIME NOT NULL,
    CONSTRAINT "AccessApproval_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "AccessRequest" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "AccessApproval_approverId_fkey" FOREIGN KEY ("approverId") REFERENCES "User" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AccessRequestHistory" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "requestId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "actorUserId" TEXT,
    "action" TEXT NOT NULL,
    "comment" TEXT,
    "fromState" TEXT,
    "toState" TEXT NOT NULL,
    "at" DATETIME NOT NULL,
    CONSTRAINT "AccessRequestHistory_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "AccessRequest" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AccessRequestParticipant" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "requestId" TEXT NOT NULL,
    "organizationId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "step" INTEGER,
    "userId" TEXT,
    "role" TEXT,
    CONSTRAINT "AccessRequestParticipant_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "AccessRequest" ("id") ON DELETE CASCADE ON UPDATE CASCADE
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
