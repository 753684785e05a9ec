-- AlterTable
ALTER TABLE "AccessPolicy" ADD COLUMN     "allowPortForwarding" BOOLEAN NOT NULL DEFAULT false;
