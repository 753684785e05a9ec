-- AlterTable
ALTER TABLE "Credential" ADD COLUMN     "pendingVersion" INTEGER,
ADD COLUMN     "targetCheckedAt" TIMESTAMP(3),
ADD COLUMN     "targetStatus" TEXT;

-- AlterTable
ALTER TABLE "AccessPolicy" ADD COLUMN     "changeOnTargetAfterCheckIn" BOOLEAN NOT NULL DEFAULT false;
