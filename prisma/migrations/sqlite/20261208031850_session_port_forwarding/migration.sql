-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_AccessPolicy" (
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
    "changeOnTargetAfterCheckIn" BOOLEAN NOT NULL DEFAULT false,
    "releasableFields" TEXT NOT NULL,
    "requestType" TEXT NOT NULL DEFAULT 'FIELD_RELEASE',
    "allowPortForwarding" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" DATETIME NOT NULL,
    "updatedAt" DATETIME NOT NULL,
    "createdById" TEXT,
    CONSTRAINT "AccessPolicy_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_AccessPolicy" ("approversMayChangeWindow", "changeOnTargetAfterCheckIn", "createdAt", "createdById", "defaultDurationMinutes", "description", "enabled", "id", "maxDurationMinutes", "name", "organizationId", "pendingTimeoutMinutes", "reasonRequired", "releasableFields", "requestType", "requesters", "reviewCommentRequired", "reviewRequired", "reviewers", "rotateOnCheckIn", "scope", "steps", "ticketPattern", "ticketRequired", "updatedAt") SELECT "approversMayChangeWindow", "changeOnTargetAfterCheckIn", "createdAt", "createdById", "defaultDurationMinutes", "description", "enabled", "id", "maxDurationMinutes", "name", "organizationId", "pendingTimeoutMinutes", "reasonRequired", "releasableFields", "requestType", "requesters", "reviewCommentRequired", "reviewRequired", "reviewers", "rotateOnCheckIn", "scope", "steps", "ticketPattern", "ticketRequired", "updatedAt" FROM "AccessPolicy";
DROP TABLE "AccessPolicy";
ALTER TABLE "new_AccessPolicy" RENAME TO "AccessPolicy";
CREATE INDEX "AccessPolicy_organizationId_name_idx" ON "AccessPolicy"("organizationId", "name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
